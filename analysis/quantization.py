"""int8 against fp32: the same configuration of the same architecture exported as `xnnpack` (fp32) and as
`xnnpack_int8`, measured in the same run: program size, warm load, steady inference (median and its interval),
peak memory, and the accuracy cost the export measured on held-out images (from the manifest)."""

import pandas as pd

from analysis.significance import intervals_overlap
from formats.paper import order_configurations

FP32_BACKEND = "xnnpack"
INT8_BACKEND = "xnnpack_int8"
PAIR_KEYS = ["device", "core", "threads", "arch", "configuration"]
COLUMNS = PAIR_KEYS + [
    "fp32_size_bytes", "int8_size_bytes", "size_ratio",
    "fp32_warm_load_ms", "int8_warm_load_ms",
    "fp32_median_ms", "int8_median_ms", "speedup", "speedup_significant",
    "fp32_peak_memory_kb", "int8_peak_memory_kb", "memory_ratio",
    "top1_agreement", "cosine_similarity_mean", "relative_error",
]


def _row_for(panel: pd.DataFrame, backend: str) -> pd.Series | None:
    match = panel[panel["backend"] == backend]
    return match.iloc[0] if len(match) else None


def int8_comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration that was measured in both fp32 and int8 (empty when none was)."""
    records: list[dict] = []
    if summary.empty or INT8_BACKEND not in set(summary["backend"]):
        return pd.DataFrame(records, columns=COLUMNS)
    for key, panel in summary.groupby(PAIR_KEYS, sort=False):
        fp32, int8 = _row_for(panel, FP32_BACKEND), _row_for(panel, INT8_BACKEND)
        if fp32 is None or int8 is None:
            continue
        timed = pd.notna(fp32["median_ms"]) and pd.notna(int8["median_ms"])
        records.append({
            **dict(zip(PAIR_KEYS, key)),
            "fp32_size_bytes": fp32["model_size_bytes"], "int8_size_bytes": int8["model_size_bytes"],
            "size_ratio": int8["model_size_bytes"] / fp32["model_size_bytes"],
            "fp32_warm_load_ms": fp32["warm_load_median_ms"], "int8_warm_load_ms": int8["warm_load_median_ms"],
            "fp32_median_ms": fp32["median_ms"], "int8_median_ms": int8["median_ms"],
            "speedup": fp32["median_ms"] / int8["median_ms"] if timed else float("nan"),
            "speedup_significant": bool(not intervals_overlap(fp32, int8)) if timed else None,
            "fp32_peak_memory_kb": fp32["peak_memory_median_kb"], "int8_peak_memory_kb": int8["peak_memory_median_kb"],
            "memory_ratio": int8["peak_memory_median_kb"] / fp32["peak_memory_median_kb"],
            "top1_agreement": int8["accuracy_top1_agreement"],
            "cosine_similarity_mean": int8["accuracy_cosine_similarity_mean"],
            "relative_error": int8["accuracy_relative_error"],
        })
    table = pd.DataFrame(records, columns=COLUMNS)
    if table.empty:
        return table
    order = {configuration: index for index, configuration in enumerate(order_configurations(table["configuration"]))}
    return table.assign(_order=table["configuration"].map(order)).sort_values(
        ["device", "core", "threads", "arch", "_order"]).drop(columns="_order").reset_index(drop=True)
