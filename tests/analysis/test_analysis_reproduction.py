"""The full vs split comparison beside the paper's 217.66 % and 534.49 %, under each reading of 'split'."""

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.configurations import display_name
from analysis.loading import load_results
from analysis.reproduction import (
    MAX_SPLIT,
    MEAN_OF_SPLITS,
    MIN_SPLIT,
    PAPER_LOAD_INCREASE_PERCENT,
    PAPER_MEMORY_INCREASE_PERCENT,
    percent_increase,
    reproduction_table,
)
from analysis.statistics import summarize
from analysis.tidy import build_tidy_tables
from formats.paper import order_configurations

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"


@pytest.fixture(scope="module")
def reproduction():
    tables = build_tidy_tables(load_results([DATA / "paper_like"]))
    return reproduction_table(summarize(tables.samples, tables.launches))


def reading(table, backend, measure, reference):
    match = table[(table["backend"] == backend) & (table["measure"] == measure) & (table["split_reference"] == reference)]
    assert len(match) == 1
    return match.iloc[0]


def test_percent_increase():
    assert percent_increase(300.0, 100.0) == 200.0
    assert percent_increase(100.0, 100.0) == 0.0
    assert math.isnan(percent_increase(1.0, 0.0))


def test_paper_ratios_are_the_papers():
    assert PAPER_MEMORY_INCREASE_PERCENT == 217.66
    assert PAPER_LOAD_INCREASE_PERCENT == 534.49


def test_headline_is_peak_memory_and_warm_load_against_the_mean_of_the_six_splits(reproduction):
    headline = reproduction[reproduction["headline"]]
    xnnpack = headline[headline["backend"] == "xnnpack"].set_index("quantity")
    # peak: splits 100000, 110000, 120000 twice -> mean 110000; (300000 - 110000) / 110000
    assert xnnpack.at["memory", "measure"] == "peak (VmHWM)"
    assert xnnpack.at["memory", "split_value"] == 110000
    assert xnnpack.at["memory", "split_count"] == 6
    assert xnnpack.at["memory", "increase_percent"] == pytest.approx(190000 / 110000 * 100)
    assert xnnpack.at["memory", "paper_increase_percent"] == 217.66
    # warm load: splits 80, 90, 100 twice -> mean 90; full median (500 + 520) / 2 = 510
    assert xnnpack.at["load time", "measure"] == "warm load"
    assert xnnpack.at["load time", "increase_percent"] == pytest.approx(420 / 90 * 100)
    assert xnnpack.at["load time", "paper_increase_percent"] == 534.49
    assert len(headline) == 4  # two quantities for each of the two backends


def test_other_readings(reproduction):
    assert reading(reproduction, "xnnpack", "peak (VmHWM)", MIN_SPLIT)["increase_percent"] == pytest.approx(200.0)
    assert reading(reproduction, "xnnpack", "peak (VmHWM)", MAX_SPLIT)["increase_percent"] == pytest.approx(150.0)
    assert reading(reproduction, "xnnpack", "peak (VmHWM)", "conv5_2_reduced")["increase_percent"] == pytest.approx(190000 / 110000 * 100)
    # steady: 90000, 95000, 100000 twice -> mean 95000; (250000 - 95000) / 95000
    assert reading(reproduction, "xnnpack", "steady (RSS after the runs)", MEAN_OF_SPLITS)["increase_percent"] == pytest.approx(155000 / 95000 * 100)
    assert reading(reproduction, "xnnpack", "warm load", MIN_SPLIT)["increase_percent"] == pytest.approx(537.5)
    assert reading(reproduction, "xnnpack", "warm load", MAX_SPLIT)["increase_percent"] == pytest.approx(410.0)
    assert reading(reproduction, "xnnpack", "first load", MEAN_OF_SPLITS)["increase_percent"] == pytest.approx(550 / 150 * 100)
    # lite measured only conv5_1_simple besides full: every reading compares with it
    lite_peak = reading(reproduction, "lite", "peak (VmHWM)", MEAN_OF_SPLITS)
    assert lite_peak["split_count"] == 1 and lite_peak["split_configurations"] == "conv5_1_simple"
    assert lite_peak["increase_percent"] == pytest.approx(300.0)


def test_headline_load_falls_back_to_first_load_when_there_are_no_warm_launches():
    summary = pd.DataFrame([
        {"device": "d", "core": 0, "threads": 1, "arch": "vgg16", "format": "pte", "backend": "xnnpack",
         "configuration": configuration,
         "peak_memory_median_kb": peak, "steady_memory_median_kb": peak, "first_load_median_ms": load,
         "warm_load_median_ms": float("nan")}
        for configuration, peak, load in (("full", 400.0, 300.0), ("conv5_1_simple", 100.0, 100.0))
    ])
    table = reproduction_table(summary)
    headline = table[table["headline"]].set_index("quantity")
    assert headline.at["load time", "measure"] == "first load"
    assert headline.at["load time", "increase_percent"] == pytest.approx(200.0)
    assert not (table["measure"] == "warm load").any()


def test_no_full_program_gives_no_rows():
    summary = pd.DataFrame([{"device": "d", "core": 0, "threads": 1, "arch": "vgg16", "format": "pte",
                             "backend": "xnnpack", "configuration": "conv5_1_simple", "peak_memory_median_kb": 1.0, "steady_memory_median_kb": 1.0,
                             "first_load_median_ms": 1.0, "warm_load_median_ms": 1.0}])
    assert reproduction_table(summary).empty


def test_only_vgg16_programs_enter_the_papers_comparison():
    """Another architecture's "full" is not the paper's full model: its programs are left out of the reproduction."""
    rows = [{"device": "d", "core": 0, "threads": 1, "arch": arch, "format": "pte", "backend": "xnnpack",
             "configuration": configuration, "peak_memory_median_kb": peak, "steady_memory_median_kb": peak,
             "first_load_median_ms": 1.0, "warm_load_median_ms": 1.0}
            for arch, configuration, peak in (("vgg16", "full", 400.0), ("vgg16", "conv5_1_simple", 100.0),
                                              ("resnet18", "full", 50.0), ("resnet18", "layer2_simple", 10.0))]
    table = reproduction_table(pd.DataFrame(rows))
    peak = table[(table["measure"] == "peak (VmHWM)") & table["headline"]]
    assert list(peak["full_value"]) == [400.0] and list(peak["split_value"]) == [100.0]


def test_configuration_order_and_names():
    assert order_configurations(["pool5_simple", "conv5_3_reduced", "full", "conv5_1_simple", "conv4_3_simple"]) == [
        "full", "conv5_1_simple", "conv5_3_reduced", "conv4_3_simple", "pool5_simple"]
    assert display_name("conv5_1_reduced") == "conv5_1\nreduced"
    assert display_name("conv5_2_simple") == "conv5_2\nsimple"
    assert display_name("conv5_1_reduced_noisy") == "conv5_1\nreduced noisy"
    assert display_name("full") == "full"
