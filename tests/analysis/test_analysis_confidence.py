"""The median's 95 % interval (stats.confidence), against values worked out here, and the significance rule."""

import math
from itertools import product
from statistics import median

import pandas as pd
import pytest

from analysis.significance import compare_medians
from stats.confidence import median_interval, percentile_interval


def exact_bootstrap_percentile_interval(values: list[float]) -> tuple[float, float]:
    """Every one of the n**n equally likely resamples, enumerated: the exact bootstrap distribution of the median."""
    return percentile_interval([median(resample) for resample in product(values, repeat=len(values))])


def binomial_median_cdf(m: int, n: int) -> float:
    """P(median of n draws from 1..n is <= m), for odd n: at least (n + 1) / 2 draws must be <= m."""
    p = m / n
    return sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range((n + 1) // 2, n + 1))


def test_interval_of_a_small_sample_matches_the_exact_bootstrap():
    values = [10.0, 11.0, 12.0, 13.0, 14.0]
    assert exact_bootstrap_percentile_interval(values) == (10.0, 14.0)  # P(median = 10) = 0.058 > 0.025
    interval = median_interval([values])
    assert (interval.low_ms, interval.median_ms, interval.high_ms) == (10.0, 12.0, 14.0)
    assert interval.unit == "samples" and interval.n_samples == 5 and interval.n_launches == 1


def test_interval_of_nine_samples_matches_the_binomial_worked_out_value():
    """For 1..9 the median of a resample is <= m with probability P(Binomial(9, m/9) >= 5): 0.0014 for m = 1 and
    0.030 for m = 2, so the 2.5th percentile is 2; by symmetry the 97.5th is 8."""
    assert binomial_median_cdf(1, 9) < 0.025 <= binomial_median_cdf(2, 9)
    assert binomial_median_cdf(7, 9) < 0.975 <= binomial_median_cdf(8, 9)
    interval = median_interval([[float(v) for v in range(1, 10)]], resamples=20000)
    assert (interval.low_ms, interval.high_ms) == (2.0, 8.0)
    assert interval.half_width_pct == pytest.approx(100 * 3 / 5)


def test_launches_that_differ_are_resampled_as_launches():
    steady = [[100.0 + 0.01 * i for i in range(60)] for _ in range(3)]
    assert median_interval(steady).unit == "samples"
    shifted = [[100.0 + 0.01 * i for i in range(60)], [110.0 + 0.01 * i for i in range(60)],
               [120.0 + 0.01 * i for i in range(60)]]
    interval = median_interval(shifted)
    assert interval.unit == "launches"
    # Resampling launches can pick three copies of the first or of the last launch: the interval spans them.
    assert interval.low_ms < 101.0 and interval.high_ms > 120.0
    assert median_interval(shifted).low_ms == interval.low_ms  # seeded: the same samples give the same interval


def test_no_sample_is_an_error():
    with pytest.raises(ValueError, match="at least one sample"):
        median_interval([[], []])


def summary_row(configuration, median_ms, low, high):
    return {"device": "d", "core": 1, "threads": 1, "arch": "vgg16", "backend": "xnnpack", "configuration": configuration,
            "median_ms": median_ms, "median_ci_low_ms": low, "median_ci_high_ms": high, "median_ci_unit": "samples"}


def test_differences_within_the_intervals_are_not_significant():
    summary = pd.DataFrame([summary_row("full", 300.0, 295.0, 305.0), summary_row("conv5_1_simple", 290.0, 284.0, 296.0),
                            summary_row("conv5_2_simple", 280.0, 279.0, 281.0)])
    comparison = compare_medians(summary).set_index("configuration")
    assert pd.isna(comparison.loc["full", "vs_full_ratio"]) and pd.isna(comparison.loc["full", "previous_configuration"])
    assert comparison.loc["conv5_1_simple", "vs_full_significant"] is False  # 284-296 overlaps 295-305
    assert comparison.loc["conv5_2_simple", "vs_full_significant"] is True
    assert comparison.loc["conv5_2_simple", "previous_configuration"] == "conv5_1_simple"
    assert comparison.loc["conv5_2_simple", "vs_previous_significant"] is True  # 279-281 lies below 284-296
    assert comparison.loc["conv5_2_simple", "vs_previous_ratio"] == pytest.approx(280.0 / 290.0)
