"""The optional stopping rule: add launches to a program until its median is sure enough, or a cap is reached.

Like pyperf's and the TFLite benchmark tool's time and count caps, but on the width of the median's 95 %
interval (stats.confidence, the same interval the report gives): with --target-ci-pct P, a program whose
interval is wider than +-P % of its median gets another launch, up to --max-launches.
"""

from __future__ import annotations

from bench.sweep.settings import SweepConfig
from stats.confidence import MedianInterval, median_interval


def interval_too_wide(launch_samples: list[list[float]], config: SweepConfig, launches_done: int) -> MedianInterval | None:
    """The current interval when the program should get another launch; None when it is sure enough, when the
    rule is off, when there is nothing to measure it on, or when the cap is reached."""
    if config.target_ci_pct is None or launches_done >= config.max_launches or not any(launch_samples):
        return None
    interval = median_interval(launch_samples)
    return interval if interval.half_width_pct > config.target_ci_pct else None
