"""Summary statistics per configuration x format/backend x device x core x threads, from the tidy tables."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from formats.paper import backend_sort_key, configuration_sort_key
from stats.confidence import median_interval

GROUP_KEYS: list[str] = ["device", "core", "threads", "arch", "configuration", "format", "backend"]
ACCURACY_COLUMNS = ["accuracy_top1_agreement", "accuracy_cosine_similarity_mean", "accuracy_relative_error"]


@dataclass(frozen=True)
class SampleStatistics:
    """Spread of a set of times. std is the sample standard deviation (n - 1); percentiles interpolate linearly."""
    n_samples: int
    median_ms: float
    mean_ms: float
    std_ms: float
    p5_ms: float
    p95_ms: float
    iqr_ms: float
    coefficient_of_variation: float


def describe_times(times_ms: Sequence[float] | np.ndarray) -> SampleStatistics:
    values = np.asarray(times_ms, dtype=float)
    if values.size == 0:
        raise AnalysisError("no timed inference to describe; a statistic needs at least one sample")
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    p5, p25, median, p75, p95 = (float(value) for value in np.percentile(values, [5, 25, 50, 75, 95]))
    return SampleStatistics(
        n_samples=int(values.size), median_ms=median, mean_ms=mean, std_ms=std, p5_ms=p5, p95_ms=p95,
        iqr_ms=p75 - p25, coefficient_of_variation=std / mean if mean else float("nan"),
    )


def _sorted_by_paper_order(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return table
    order = table.apply(
        lambda row: (row["device"], row["core"], row["threads"], row["arch"], configuration_sort_key(row["configuration"]),
                     backend_sort_key(row["backend"])), axis=1)
    return table.assign(_order=order).sort_values("_order").drop(columns="_order").reset_index(drop=True)


CI_COLUMNS = ["median_ci_low_ms", "median_ci_high_ms", "median_ci_half_width_pct", "median_ci_unit",
              "preempted_share"]


def _interval_record(group: pd.DataFrame) -> dict:
    """The median's 95 % interval (stats.confidence) and the share of samples the runner saw preempted."""
    interval = median_interval([launch["time_ms"].to_numpy(dtype=float)
                                for _, launch in group.groupby("run_id_launch", sort=False)])
    flags = group["preempted"].dropna() if "preempted" in group else pd.Series(dtype=object)
    return {
        "median_ci_low_ms": interval.low_ms, "median_ci_high_ms": interval.high_ms,
        "median_ci_half_width_pct": interval.half_width_pct, "median_ci_unit": interval.unit,
        "preempted_share": float(flags.astype(bool).mean()) if len(flags) else float("nan"),
    }


def summarize_inference(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per group: the spread of every timed inference of every ok launch, and how sure its median is."""
    records = []
    samples = samples.assign(run_id_launch=samples["run_id"].astype(str) + "#" + samples["launch_index"].astype(str))
    for key, group in samples.groupby(GROUP_KEYS, sort=False):
        statistics = describe_times(group["time_ms"].to_numpy(dtype=float))
        records.append({**dict(zip(GROUP_KEYS, key)), "n_launches": group["launch_index"].nunique(), **asdict(statistics),
                        **_interval_record(group)})
    columns = GROUP_KEYS + ["n_launches"] + list(SampleStatistics.__dataclass_fields__) + CI_COLUMNS
    return _sorted_by_paper_order(pd.DataFrame(records, columns=columns))


def _median_or_nan(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.median()) if len(values) else float("nan")


def summarize_launches(launches: pd.DataFrame) -> pd.DataFrame:
    """One row per group from ok launches: first vs warm load, first inference, peak and steady memory (medians)."""
    ok = launches[launches["status"] == "ok"]
    records = []
    for key, group in ok.groupby(GROUP_KEYS, sort=False):
        first = group[group["launch_kind"] == "first"]
        warm = group[group["launch_kind"] == "warm"]
        records.append({
            **dict(zip(GROUP_KEYS, key)),
            "n_first_launches": len(first),
            "n_warm_launches": len(warm),
            "first_load_median_ms": _median_or_nan(first["load_ms"]),
            "warm_load_median_ms": _median_or_nan(warm["load_ms"]),
            "first_inference_median_ms": _median_or_nan(group["first_inference_ms"]),
            "peak_memory_median_kb": _median_or_nan(group["vm_hwm_kb"]),
            "steady_memory_median_kb": _median_or_nan(group["rss_after_runs_kb"]),
            "any_page_cache_dropped": bool(first["page_cache_dropped"].any()) if len(first) else False,
            "flops": group["flops"].iloc[0],
            "output_size_bytes": group["output_size_bytes"].iloc[0],
            "model_size_bytes": group["model_size_bytes"].iloc[0],
            "core_peak_gflop_per_s": _median_or_nan(group["core_peak_gflop_per_s"].astype(float)),
            **{column: group[column].iloc[0] for column in ACCURACY_COLUMNS},
        })
    columns = GROUP_KEYS + [
        "n_first_launches", "n_warm_launches", "first_load_median_ms", "warm_load_median_ms", "first_inference_median_ms",
        "peak_memory_median_kb", "steady_memory_median_kb", "any_page_cache_dropped", "flops", "output_size_bytes",
        "model_size_bytes", "core_peak_gflop_per_s", *ACCURACY_COLUMNS,
    ]
    return _sorted_by_paper_order(pd.DataFrame(records, columns=columns))


def achieved_gflop_per_s(flops: float | None, median_ms: float) -> float:
    if flops is None or pd.isna(flops) or not median_ms:
        return float("nan")
    return float(flops) / (median_ms / 1000.0) / 1e9


def summarize(samples: pd.DataFrame, launches: pd.DataFrame) -> pd.DataFrame:
    """Inference spread and launch medians side by side, plus the achieved GFLOP/s at the median time and its
    share of the pinned core's measured peak fp32 FMA rate (NaN where the peak was not measured)."""
    inference = summarize_inference(samples)
    launch = summarize_launches(launches)
    summary = launch.merge(inference, on=GROUP_KEYS, how="outer")
    summary["achieved_gflop_per_s"] = [
        achieved_gflop_per_s(flops, median) for flops, median in zip(summary["flops"], summary["median_ms"])
    ]
    summary["peak_fraction"] = summary["achieved_gflop_per_s"] / summary["core_peak_gflop_per_s"]
    return _sorted_by_paper_order(summary)
