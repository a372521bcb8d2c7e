"""Whether two medians differ: a difference is significant when their 95 % intervals (stats.confidence) do not
overlap, a conservative rule (non-overlapping 95 % intervals mean a difference at well below the 5 % level);
overlapping ones are reported as "not significant" rather than as equal."""

from __future__ import annotations


def intervals_overlap(low_a: float, high_a: float, low_b: float, high_b: float) -> bool:
    return low_a <= high_b and low_b <= high_a


def significance_text(significant: bool | None) -> str:
    """The report's words for a comparison: "yes", "not significant", or "" where nothing was compared."""
    if significant is None or significant != significant:  # None or NaN: nothing was compared
        return ""
    return "yes" if significant else "not significant"
