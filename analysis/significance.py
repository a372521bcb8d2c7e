"""Which differences of median inference time the 95 % intervals can tell apart.

Each configuration is compared, per device, core, threads and backend, with the full model and with the configuration
before it in the paper's order, by the rule of stats.significance.
"""

import pandas as pd

from formats.paper import FULL_CONFIGURATION, order_configurations
from stats import significance

PANEL_KEYS = ["device", "core", "threads", "arch", "backend"]
COLUMNS = PANEL_KEYS + [
    "configuration", "median_ms", "median_ci_low_ms", "median_ci_high_ms", "median_ci_unit",
    "vs_full_ratio", "vs_full_significant", "previous_configuration", "vs_previous_ratio", "vs_previous_significant",
]


def intervals_overlap(a: pd.Series, b: pd.Series) -> bool:
    return bool(significance.intervals_overlap(a["median_ci_low_ms"], a["median_ci_high_ms"],
                                               b["median_ci_low_ms"], b["median_ci_high_ms"]))


def _versus(row: pd.Series, other: pd.Series | None) -> tuple[float, object]:
    if other is None:
        return float("nan"), None
    return row["median_ms"] / other["median_ms"], bool(not intervals_overlap(row, other))


def compare_medians(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: its median and interval, and whether it differs from full and from the previous one."""
    records = []
    timed = summary.dropna(subset=["median_ms", "median_ci_low_ms"]) if not summary.empty else summary
    for key, panel in timed.groupby(PANEL_KEYS, sort=False):
        by_configuration = {row["configuration"]: row for _, row in panel.iterrows()}
        ordered = order_configurations(by_configuration)
        full = by_configuration.get(FULL_CONFIGURATION)
        for index, configuration in enumerate(ordered):
            row = by_configuration[configuration]
            previous = by_configuration[ordered[index - 1]] if index else None
            vs_full = _versus(row, full) if configuration != FULL_CONFIGURATION else (float("nan"), None)
            vs_previous = _versus(row, previous)
            records.append({
                **dict(zip(PANEL_KEYS, key)), "configuration": configuration, "median_ms": row["median_ms"],
                "median_ci_low_ms": row["median_ci_low_ms"], "median_ci_high_ms": row["median_ci_high_ms"],
                "median_ci_unit": row["median_ci_unit"],
                "vs_full_ratio": vs_full[0], "vs_full_significant": vs_full[1],
                "previous_configuration": ordered[index - 1] if index else None,
                "vs_previous_ratio": vs_previous[0], "vs_previous_significant": vs_previous[1],
            })
    return pd.DataFrame(records, columns=COLUMNS)
