"""Tidy tables and statistics on the hand-made folder, checked against numbers worked out by hand.

Each ok launch L of a program holds base + 4L + (0, 1, 2, 3) ms, so a program's twelve samples are base + 0 ... base + 11.
For the values 0 ... 11: median 5.5, mean 5.5, sum of squared deviations 143, so std (n - 1) = sqrt(143 / 11) = sqrt(13);
linear percentiles sit at rank p * 11: p5 = 0.55, p25 = 2.75, p75 = 8.25, p95 = 10.45, IQR = 5.5.
"""

import math
from pathlib import Path

import pytest

from analysis.errors import AnalysisError
from analysis.loading import load_results
from analysis.statistics import achieved_gflop_per_s, describe_times, summarize
from analysis.tidy import build_tidy_tables

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"


@pytest.fixture(scope="module")
def tables():
    return build_tidy_tables(load_results([DATA / "paper_like"]))


@pytest.fixture(scope="module")
def summary(tables):
    return summarize(tables.samples, tables.launches)


def summary_row(summary, configuration, backend="xnnpack"):
    match = summary[(summary["configuration"] == configuration) & (summary["backend"] == backend)]
    assert len(match) == 1
    return match.iloc[0]


def test_one_sample_row_per_timed_inference_of_ok_launches(tables):
    # 9 ok programs x 3 launches x 4 inferences; the timeout and runner_error launches hold none
    assert len(tables.samples) == 108
    full = tables.samples[tables.samples["program_id"] == "full.xnnpack"]
    assert sorted(full["time_ms"]) == [1000.0 + value for value in range(12)]
    assert sorted(full["launch_index"].unique()) == [0, 1, 2]
    assert list(full[full["launch_index"] == 1]["iteration"]) == [0, 1, 2, 3]
    assert set(tables.samples.columns) >= {"run_id", "device", "core", "program_id", "configuration", "format", "backend",
                                          "launch_index", "iteration", "time_ms"}


def test_one_launch_row_per_process_launch_with_every_status(tables):
    assert len(tables.launches) == 29
    assert tables.launches["status"].value_counts().to_dict() == {"ok": 27, "timeout": 1, "runner_error": 1}
    first_full = tables.launches[(tables.launches["program_id"] == "full.xnnpack") & (tables.launches["launch_index"] == 0)].iloc[0]
    assert first_full["launch_kind"] == "first"
    assert first_full["load_ms"] == 700.0
    assert first_full["first_inference_ms"] == 2000.0
    assert first_full["vm_hwm_kb"] == 300000
    assert first_full["rss_after_runs_kb"] == 250000
    assert first_full["hottest_after_c"] == 38.5
    assert not first_full["page_cache_dropped"]


def test_failed_launches_get_their_own_table(tables):
    failures = tables.failures.set_index("program_id")
    assert list(failures.index) == ["full.xnnpack", "conv5_3_reduced.portable"]
    assert failures.at["full.xnnpack", "status"] == "timeout"
    assert failures.at["conv5_3_reduced.portable", "error_kind"] == "out_of_memory"
    assert failures.at["conv5_3_reduced.portable", "runner_exit_code"] == 3
    assert failures.at["conv5_3_reduced.portable", "stderr_excerpt"] == "E splitbench: out of memory"


def test_describe_times_matches_hand_computation():
    statistics = describe_times([float(value) for value in range(12)])
    assert statistics.n_samples == 12
    assert statistics.median_ms == 5.5
    assert statistics.mean_ms == 5.5
    assert statistics.std_ms == pytest.approx(math.sqrt(13))
    assert statistics.p5_ms == pytest.approx(0.55)
    assert statistics.p95_ms == pytest.approx(10.45)
    assert statistics.iqr_ms == pytest.approx(5.5)


def test_describe_times_of_a_skewed_set_and_of_one_sample():
    statistics = describe_times([1.0, 2.0, 3.0, 4.0, 100.0])
    assert statistics.median_ms == 3.0
    assert statistics.mean_ms == 22.0
    # deviations -21, -20, -19, -18, 78: squares 441 + 400 + 361 + 324 + 6084 = 7610, / 4
    assert statistics.std_ms == pytest.approx(math.sqrt(7610 / 4))
    assert statistics.coefficient_of_variation == pytest.approx(math.sqrt(7610 / 4) / 22.0)
    # rank 0.05 * 4 = 0.2 -> 1.2; rank 0.95 * 4 = 3.8 -> 4 + 0.8 * 96; IQR = 4 - 2
    assert statistics.p5_ms == pytest.approx(1.2)
    assert statistics.p95_ms == pytest.approx(80.8)
    assert statistics.iqr_ms == pytest.approx(2.0)
    single = describe_times([7.0])
    assert single.median_ms == 7.0 and math.isnan(single.std_ms)
    with pytest.raises(AnalysisError, match="at least one sample"):
        describe_times([])


@pytest.mark.parametrize("configuration, backend, base", [
    ("full", "xnnpack", 1000.0), ("conv5_1_simple", "xnnpack", 100.0), ("conv5_3_reduced", "xnnpack", 121.0),
    ("full", "lite", 2000.0),
])
def test_inference_summary_per_configuration(summary, configuration, backend, base):
    row = summary_row(summary, configuration, backend)
    assert row["n_samples"] == 12
    assert row["n_launches"] == 3  # the failed fourth launch of full.xnnpack is not counted
    assert row["median_ms"] == base + 5.5
    assert row["mean_ms"] == pytest.approx(base + 5.5)
    assert row["std_ms"] == pytest.approx(math.sqrt(13))
    assert row["p5_ms"] == pytest.approx(base + 0.55)
    assert row["p95_ms"] == pytest.approx(base + 10.45)
    assert row["iqr_ms"] == pytest.approx(5.5)
    assert row["coefficient_of_variation"] == pytest.approx(math.sqrt(13) / (base + 5.5))
    # first inference is twice the first sample of each launch: 2 * (base, base + 4, base + 8), median 2 * (base + 4)
    assert row["first_inference_median_ms"] == 2 * (base + 4)


def test_load_and_memory_summary(summary):
    full = summary_row(summary, "full")
    assert (full["n_first_launches"], full["n_warm_launches"]) == (1, 2)
    assert full["first_load_median_ms"] == 700.0
    assert full["warm_load_median_ms"] == 510.0  # median of 500 and 520
    assert full["peak_memory_median_kb"] == 300000
    assert full["steady_memory_median_kb"] == 250000
    split = summary_row(summary, "conv5_2_reduced")
    assert split["warm_load_median_ms"] == 90.0
    assert split["output_size_bytes"] == 24


def test_achieved_gflop_per_s(summary):
    # 30e9 FLOPs in 1005.5 ms; 1e9 FLOPs in 105.5 ms
    assert summary_row(summary, "full")["achieved_gflop_per_s"] == pytest.approx(30.0 / 1.0055)
    assert summary_row(summary, "conv5_1_simple")["achieved_gflop_per_s"] == pytest.approx(1.0 / 0.1055)
    assert math.isnan(achieved_gflop_per_s(None, 10.0))


def test_summary_follows_the_paper_order_and_leaves_out_failed_programs(summary):
    assert list(summary["configuration"]) == [
        "full", "full", "conv5_1_simple", "conv5_1_simple", "conv5_2_simple", "conv5_3_simple",
        "conv5_1_reduced", "conv5_2_reduced", "conv5_3_reduced",
    ]
    assert list(summary["backend"][:2]) == ["xnnpack", "lite"]
    assert "portable" not in set(summary["backend"])
