"""How sure a median is: a 95 % bootstrap confidence interval for the median inference time of one program.

Standard library only (bench/ uses it for its stopping rule, analysis/ for the report), seeded, so that the same
samples always give the same interval.

The resampling unit is chosen per program:
- samples (every timed inference resampled on its own) when the program's launches agree, and
- launches (a cluster bootstrap: whole launches resampled, their samples pooled) when they differ, i.e. when the
  medians of the launches spread wider than the interval that resampling samples gives. A new process launch is then a
  source of variation of its own (page cache, memory layout, a busy neighbour) that resampling single inferences would
  hide, so the interval must count launches. With one launch there is nothing to resample but samples.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20171112  # fixed: the same samples always give the same interval


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


def percentile_interval(statistic_values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The (1 - confidence) / 2 and (1 + confidence) / 2 percentiles, nearest rank, of bootstrap statistics."""
    ordered = sorted(statistic_values)
    tail = (1 - confidence) / 2
    low_rank = max(0, math.ceil(tail * len(ordered)) - 1)
    high_rank = min(len(ordered) - 1, math.ceil((1 - tail) * len(ordered)) - 1)
    return ordered[low_rank], ordered[high_rank]


def bootstrap_median(values: Sequence[float], resamples: int, rng: random.Random) -> tuple[float, float]:
    values = list(values)
    medians = [statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples)]
    return percentile_interval(medians)


def bootstrap_median_over_launches(launches: Sequence[Sequence[float]], resamples: int,
                                   rng: random.Random) -> tuple[float, float]:
    medians = []
    for _ in range(resamples):
        chosen = rng.choices(launches, k=len(launches))
        medians.append(statistics.median([value for launch in chosen for value in launch]))
    return percentile_interval(medians)


def median_interval(launches: Sequence[Sequence[float]], resamples: int = RESAMPLES,
                    seed: int = SEED) -> MedianInterval:
    """The interval of the median of all samples; `launches` holds each launch's timed inferences (ms)."""
    launches = [list(launch) for launch in launches if len(launch)]
    if not launches:
        raise ValueError("no timed inference to give an interval for; a median needs at least one sample")
    pooled = [value for launch in launches for value in launch]
    median = statistics.median(pooled)
    low, high = bootstrap_median(pooled, resamples, random.Random(seed))
    unit = "samples"
    if len(launches) > 1:
        launch_medians = [statistics.median(launch) for launch in launches]
        if max(launch_medians) - min(launch_medians) > high - low:
            low, high = bootstrap_median_over_launches(launches, resamples, random.Random(seed))
            unit = "launches"
    return MedianInterval(median, low, high, unit, len(pooled), len(launches))
