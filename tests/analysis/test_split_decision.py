"""The split decision from hand-made numbers: transfer by the profile formula, the best configuration per
profile and objective, the Neurosurgeon-style prediction, and bad profiles refused with one clear error."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.network_profiles import LTE, THREE_G, WIFI, named_profiles
from analysis.split_decision import SplitDecisionError, split_study
from analysis.split_prediction import prediction_table
from formats.cloud_results import CloudRow, CloudTiming, TransferBytes
from formats.layer_profile import LayerProfile, LayerTime


def summary_row(configuration: str, median_ms: float, peak_kb: float = 1000.0) -> dict:
    return {"device": "phone", "core": 1, "threads": 1, "configuration": configuration, "format": "pte",
            "backend": "xnnpack", "median_ms": median_ms, "peak_memory_median_kb": peak_kb,
            "steady_memory_median_kb": peak_kb / 2}


def cloud_row(configuration: str, split: str | None, sent_bytes: int, cloud_ms: float, k: int | None = None,
              payload: str = "features", jpeg: int | None = None) -> CloudRow:
    count = sent_bytes // 4
    return CloudRow(
        run_id="r", configuration=configuration, split_point=split, client_program_id=None,
        cloud_program_id="x", reduction_k=k, status="ok", message=None, input={"image": "img"}, device=None,
        transfer=TransferBytes(payload, [1, count], sent_bytes, 2 * count, count + 4, 0.1, 12.7,
                               uint8_bytes=count if jpeg else None, jpeg_bytes=jpeg, jpeg_quality=90 if jpeg else None),
        cloud=CloudTiming("rt", "xnnpack", 2, "host", 3, 1.0, [cloud_ms] * 3, cloud_ms),
        check={"top1_agree": True, "logits_rel_error": 0.0, "exact_expected": k is None, "tolerance": 1e-3,
               "by_encoding": {"int8": {"top1_agree": True}}},
        measured_utc="t")


@pytest.fixture
def numbers():
    summary = pd.DataFrame([summary_row("full", 1000.0), summary_row("conv1_1_simple", 50.0),
                            summary_row("pool3_simple", 300.0), summary_row("conv5_1_simple", 700.0),
                            summary_row("conv5_1_reduced", 705.0)])
    rows = [cloud_row("conv1_1_simple", "conv1_1", 12_845_056, 400.0),
            cloud_row("pool3_simple", "pool3", 401_408, 150.0),
            cloud_row("conv5_1_simple", "conv5_1", 100_352, 60.0),
            cloud_row("conv5_1_reduced", "conv5_1", 32, 61.0, k=8),
            cloud_row("cloud_only", None, 602_112, 300.0, payload="image", jpeg=80_000)]
    return summary, rows


def test_best_split_per_profile_and_objective(numbers):
    summary, rows = numbers
    study = split_study(summary, rows, [THREE_G, WIFI])
    assert list(study.candidates["configuration"]) == [
        "full", "conv1_1_simple", "pool3_simple", "conv5_1_simple", "conv5_1_reduced", "cloud_only_jpeg",
        "cloud_only_raw"]
    best = {(r.profile, r.objective): (r.best, r.value) for r in study.decision.itertuples()}
    # 3G: 32 bytes cost 200.23 ms, the JPEG 200 + 582 ms: the reduced paper split wins (966 ms; the phone alone 1000).
    assert best[("3G", "end_to_end_any")][0] == "conv5_1_reduced †"
    assert best[("3G", "end_to_end_any")][1] == pytest.approx(705.0 + 200.0 + 32 * 8 / 1.1e6 * 1e3 + 61.0)
    # Wi-Fi: the JPEG to the cloud (80 kB: 10 + 33.9 ms) + 300 ms on the host beats every split and the phone alone.
    assert best[("Wi-Fi", "end_to_end_any")][0] == "cloud_only_jpeg"
    assert best[("Wi-Fi", "device_split")] == ("conv1_1_simple", 50.0)
    assert best[("3G", "bytes_split")] == ("conv5_1_reduced †", 32.0)
    latency = study.latency.set_index(["configuration", "profile", "encoding"])
    row = latency.loc[("pool3_simple", "Wi-Fi", "float32")]
    assert row["total_ms"] == pytest.approx(300.0 + 10.0 + 401_408 * 8 / 18.88e6 * 1e3 + 150.0)
    int8 = latency.loc[("pool3_simple", "Wi-Fi", "int8")]
    assert int8["bytes_sent"] == 401_408 // 4 + 4


def test_no_cloud_stage_or_no_profile_is_one_clear_error(numbers):
    summary, rows = numbers
    with pytest.raises(SplitDecisionError, match="python -m bench.cloud RUN_FOLDER"):
        split_study(summary, [], named_profiles())
    with pytest.raises(SplitDecisionError, match="no network profile"):
        split_study(summary, rows, [])


def test_analysis_command_line_refuses_zero_bandwidth(tmp_path, capsys):
    from analysis.__main__ import main

    assert main([str(tmp_path), "--out", str(tmp_path / "out"), "--network", "slow:0:100"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bandwidth above zero" in err[0]


def test_prediction_sums_the_layers_up_to_the_cut(numbers):
    summary, rows = numbers
    study = split_study(summary, rows, [LTE])
    names = ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1", "conv3_2", "conv3_3", "pool3",
             "conv4_1", "conv4_2", "conv4_3", "pool4", "conv5_1", "conv5_2", "conv5_3", "pool5", "avgpool",
             "fc6", "fc7", "fc8"]
    profile = LayerProfile("r", "full.xnnpack", "xnnpack", 1, 3, "etdump", "by order", 1100.0, [],
                           [LayerTime(name, 40.0, 1) for name in names], "t")
    table = prediction_table(profile, study.candidates).set_index("configuration")
    assert table.loc["conv1_1_simple", "predicted_ms"] == 40.0
    assert table.loc["conv1_1_simple", "ratio"] == pytest.approx(40.0 / 50.0)
    assert table.loc["pool3_simple", "predicted_ms"] == 400.0
    assert table.loc["conv5_1_reduced", "predicted_ms"] == table.loc["conv5_1_simple", "predicted_ms"] == 600.0
    assert table.loc["full", "predicted_ms"] == 40.0 * len(names)
    assert "cloud_only_jpeg" not in table.index
