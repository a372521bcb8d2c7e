"""How sure a median is: a 95 % bootstrap confidence interval for the median inference time of one program.

Standard library and numpy (bench/ uses it for its stopping rule, analysis/ for the report), seeded, so that the
same samples always give the same interval.

The resampling unit is chosen per program:
- samples (every timed inference resampled on its own) when the program's launches agree, and
- launches (a cluster bootstrap: whole launches resampled, their samples pooled) when they differ, i.e. when the
  medians of the launches spread wider than the interval that resampling samples gives. A new process launch is then a
  source of variation of its own (page cache, memory layout, a busy neighbour) that resampling single inferences would
  hide, so the interval must count launches. With one launch there is nothing to resample but samples.

How it scales. Building each resample and taking its median costs O(n) per resample, 2000 resamples per program:
minutes of CPU for 12 launches x 40,000 inferences. Only the median of a resample is ever needed, and that has a
distribution that can be drawn directly, without building the resample:
- samples: the k-th smallest of n indices drawn uniformly from the sorted values is floor(n * U) with U the k-th
  order statistic of n uniforms, U ~ Beta(k, n - k + 1); the (k+1)-th is U + (1 - U) * (1 - V ** (1 / (n - k))),
  V uniform (the least of the n - k uniforms above U). A resample's median (one or the mean of two middle order
  statistics) is so drawn in O(1), exactly in distribution.
- launches: a resample is a count per launch (multinomial); the k-th smallest value of the pooled resample is the
  least pooled value t whose weighted rank sum_j count_j * rank_j(t) reaches k, found for all resamples at once
  by bisection over the sorted pooled values with a launches x values table of ranks (O(log n) steps).
The intervals are those of the same bootstrap (same percentile rule, same resample count, same unit choice); only
the random stream differs from the former pure-Python resampling, so an interval can move by Monte Carlo noise.
scripts/bench_analysis_scaling.py measures the analysis time against samples per launch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20171112  # fixed: the same samples always give the same interval
Samples = Sequence[float] | np.ndarray  # one launch's timed inferences (ms)


@dataclass(frozen=True)
class MedianInterval:
    median_ms: float
    low_ms: float
    high_ms: float
    unit: str  # "samples" | "launches": what was resampled
    n_samples: int
    n_launches: int

    @property
    def half_width_ms(self) -> float:
        return (self.high_ms - self.low_ms) / 2

    @property
    def half_width_pct(self) -> float:
        return 100.0 * self.half_width_ms / self.median_ms if self.median_ms else math.nan

    def overlaps(self, other: MedianInterval) -> bool:
        return self.low_ms <= other.high_ms and other.low_ms <= self.high_ms


def percentile_interval(statistic_values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The (1 - confidence) / 2 and (1 + confidence) / 2 percentiles, nearest rank, of bootstrap statistics."""
    ordered = sorted(statistic_values)
    tail = (1 - confidence) / 2
    low_rank = max(0, math.ceil(tail * len(ordered)) - 1)
    high_rank = min(len(ordered) - 1, math.ceil((1 - tail) * len(ordered)) - 1)
    return float(ordered[low_rank]), float(ordered[high_rank])


def _middle_ranks(count: int | np.ndarray) -> tuple:
    """The 1-based ranks whose values average to the median of `count` values (the same rank twice when odd)."""
    return (count + 1) // 2, count // 2 + 1


def bootstrap_medians_of_samples(values: Samples, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The medians of `resamples` bootstrap resamples of `values`, drawn through their order statistics."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    low_rank, high_rank = _middle_ranks(n)
    lower = rng.beta(low_rank, n - low_rank + 1, size=resamples)
    if high_rank == low_rank:
        upper = lower
    else:
        lower_tail = 1.0 - rng.random(resamples) ** (1.0 / (n - low_rank))
        upper = lower + (1.0 - lower) * lower_tail
    low_index = np.minimum((lower * n).astype(np.int64), n - 1)
    high_index = np.minimum((upper * n).astype(np.int64), n - 1)
    return (ordered[low_index] + ordered[high_index]) / 2


def bootstrap_medians_over_launches(launches: Sequence[Samples], resamples: int,
                                    rng: np.random.Generator) -> np.ndarray:
    """The pooled medians of `resamples` cluster-bootstrap resamples (whole launches drawn with replacement)."""
    arrays = [np.asarray(launch, dtype=float) for launch in launches]
    values = np.concatenate(arrays)
    labels = np.repeat(np.arange(len(arrays)), [len(array) for array in arrays])
    order = np.argsort(values, kind="stable")
    pooled, pooled_labels = values[order], labels[order]
    # ranks[j, i]: how many of pooled[0..i] come from launch j (a resample's rank of pooled[i] is then
    # sum_j count_j * ranks[j, i]; tied values need no care, the k-th smallest is the same value either way)
    ranks = np.cumsum(pooled_labels[np.newaxis, :] == np.arange(len(arrays))[:, np.newaxis], axis=1, dtype=np.int64)
    sizes = np.array([len(array) for array in arrays], dtype=np.int64)
    counts = rng.multinomial(len(arrays), np.full(len(arrays), 1 / len(arrays)), size=resamples)
    totals = counts @ sizes
    low_rank, high_rank = _middle_ranks(totals)
    return (_kth_smallest(pooled, ranks, counts, low_rank) + _kth_smallest(pooled, ranks, counts, high_rank)) / 2


def _kth_smallest(pooled: np.ndarray, ranks: np.ndarray, counts: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per resample r, the least pooled value whose rank in that resample (counts[r] copies of each launch)
    reaches k[r]: bisection over pooled's indices, all resamples at once."""
    low = np.zeros(len(counts), dtype=np.int64)
    high = np.full(len(counts), len(pooled) - 1, dtype=np.int64)
    while np.any(low < high):
        middle = (low + high) // 2
        reached = np.einsum("rj,jr->r", counts, ranks[:, middle]) >= k
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle + 1)
    return pooled[low]


def bootstrap_median(values: Samples, resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    return percentile_interval(bootstrap_medians_of_samples(values, resamples, rng).tolist())


def bootstrap_median_over_launches(launches: Sequence[Samples], resamples: int,
                                   rng: np.random.Generator) -> tuple[float, float]:
    return percentile_interval(bootstrap_medians_over_launches(launches, resamples, rng).tolist())


def median_interval(launches: Sequence[Samples], resamples: int = RESAMPLES,
                    seed: int = SEED) -> MedianInterval:
    """The interval of the median of all samples; `launches` holds each launch's timed inferences (ms)."""
    arrays = [np.asarray(launch, dtype=float) for launch in launches if len(launch)]
    if not arrays:
        raise ValueError("no timed inference to give an interval for; a median needs at least one sample")
    pooled = np.concatenate(arrays)
    median = float(np.median(pooled))
    low, high = bootstrap_median(pooled, resamples, np.random.default_rng(seed))
    unit = "samples"
    if len(arrays) > 1:
        launch_medians = [float(np.median(array)) for array in arrays]
        if max(launch_medians) - min(launch_medians) > high - low:
            low, high = bootstrap_median_over_launches(arrays, resamples, np.random.default_rng(seed))
            unit = "launches"
    return MedianInterval(median, low, high, unit, len(pooled), len(arrays))
