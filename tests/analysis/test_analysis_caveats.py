"""Measurement caveats: throttling, pinning misses, capped launches, noisy configurations, a disturbed peak."""

from dataclasses import replace
from pathlib import Path

import pandas as pd

from analysis.caveats import measurement_caveats
from analysis.loading import load_results
from analysis.run_context import run_contexts
from analysis.statistics import summarize
from analysis.tidy import build_tidy_tables

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"


def paper_like():
    loaded = load_results([DATA / "paper_like"])
    tables = build_tidy_tables(loaded)
    (context,) = run_contexts(loaded)
    return context, summarize(tables.samples, tables.launches)


def test_the_hand_made_run_has_no_caveat():
    context, summary = paper_like()
    assert measurement_caveats([context], summary) == []


def test_a_core_read_below_90_percent_of_its_maximum_is_flagged():
    context, summary = paper_like()
    throttled = replace(context, core_freq_range_khz=(1_500_000, 1_958_400))
    (caveat,) = measurement_caveats([throttled], summary)
    assert "1.50 GHz" in caveat and "1.96 GHz maximum" in caveat and "throttling" in caveat
    assert measurement_caveats([replace(context, core_freq_range_khz=(1_800_000, 1_958_400))], summary) == []


def test_pinning_misses_and_capped_launches_are_flagged():
    context, summary = paper_like()
    caveats = measurement_caveats([replace(context, ok_launches_seen_off_core=2, recorded_inferences_range=(3, 4))], summary)
    assert len(caveats) == 2
    assert "2 successful launch(es) saw the runner on a CPU other than the requested core" in caveats[0]
    assert "recorded only 3 timed inferences of the 4 asked for" in caveats[1]


def test_noisy_configurations_are_named():
    context, summary = paper_like()
    noisy = summary.copy()
    noisy.loc[noisy["configuration"] == "conv5_2_simple", "coefficient_of_variation"] = 0.25
    (caveat,) = measurement_caveats([context], noisy)
    assert "conv5_2_simple.xnnpack on Test Phone 6P (25%)" in caveat
    assert measurement_caveats([], pd.DataFrame()) == []


def test_a_share_above_the_core_peak_says_the_peak_was_disturbed():
    context, summary = paper_like()
    measured = summary.copy()
    measured["peak_fraction"] = 0.8
    assert measurement_caveats([context], measured) == []
    measured.loc[measured["configuration"] == "full", "peak_fraction"] = 1.3
    (caveat,) = measurement_caveats([context], measured)
    assert "full.xnnpack on Test Phone 6P (130%)" in caveat and "peak measurement was disturbed" in caveat
    assert "conv5_2_simple" not in caveat
