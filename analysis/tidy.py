"""Turns validated rows into tidy tables: one row per timed inference, one per process launch, one per failed launch."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.devices import device_label
from analysis.loading import LoadedResults, LoadedRow
from formats.device_facts import DeviceFacts

IDENTITY_COLUMNS: tuple[str, ...] = (
    "run_id", "device", "core", "threads", "arch", "program_id", "configuration", "format", "backend",
)
ACCURACY_FIELDS: tuple[str, ...] = ("top1_agreement", "cosine_similarity_mean", "relative_error")
V1_MANIFEST_ARCH = "vgg16"  # a version-1 manifest entry names no architecture: it is VGG-16

MEMORY_FIELDS: tuple[str, ...] = (
    "rss_baseline_kb", "rss_after_load_kb", "rss_after_runs_kb", "vm_hwm_kb", "pss_kb", "swap_kb",
)

TIMING_FIELDS: tuple[str, ...] = ("load_ms", "program_load_ms", "method_load_ms", "first_inference_ms")

STDERR_EXCERPT_CHARS = 200


@dataclass(frozen=True)
class TidyTables:
    samples: pd.DataFrame   # one row per timed inference
    launches: pd.DataFrame  # one row per process launch, every status
    failures: pd.DataFrame  # one row per launch whose status is not ok


def _hottest_c(environment: Any) -> float | None:
    temperatures = (environment or {}).get("temperatures_c") if isinstance(environment, dict) else None
    if not isinstance(temperatures, dict):
        return None
    values = [value for value in temperatures.values() if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return max(values) if values else None


def pinned_to_core(runner: dict[str, Any] | None, core: int) -> bool | None:
    """True when the runner saw itself only on `core`, False when on another CPU too, None when it could not tell."""
    observed = ((runner or {}).get("affinity") or {}).get("cpus_observed")
    if not observed:
        return None
    return all(cpu == core for cpu in observed)


def row_device(row: LoadedRow) -> DeviceFacts:
    """The device facts a row carries (formats.device_facts), checked."""
    return DeviceFacts.from_json(row.data["device"], f"{row.source} device")


def _identity(row: LoadedRow) -> dict[str, Any]:
    data = row.data
    entry = data["manifest_entry"] or {}
    device = row_device(row)
    return {
        "run_id": data["run_id"],
        "device": device_label(device),
        "core": data["core"],
        "threads": data["threads"],
        "arch": entry.get("arch") or V1_MANIFEST_ARCH,
        "program_id": data["program_id"],
        "configuration": entry.get("configuration", data["program_id"].split(".")[0]),
        "format": entry.get("format"),
        "backend": entry.get("backend", data["program_id"].rpartition(".")[2]),
    }


def _launch_record(row: LoadedRow) -> dict[str, Any]:
    data = row.data
    entry = data["manifest_entry"] or {}
    runner = data.get("runner") or {}
    timing = runner.get("timing") or {}
    memory = runner.get("memory") or {}
    record = _identity(row)
    record.update({
        "launch_index": data["launch_index"],
        "launch_kind": data["launch_kind"],
        "page_cache_dropped": bool(data.get("page_cache_dropped")),
        "status": data["status"],
        "pinned_to_core": pinned_to_core(runner, data["core"]),
        **{name: timing.get(name) for name in TIMING_FIELDS},
        "timed_inferences": len(timing.get("inference_ms") or []),
        **{name: memory.get(name) for name in MEMORY_FIELDS},
        "flops": entry.get("flops"),
        "output_size_bytes": entry.get("output_size_bytes"),
        "model_size_bytes": entry.get("size_bytes"),
        **{f"accuracy_{name}": (entry.get("accuracy") or {}).get(name) for name in ACCURACY_FIELDS},
        "core_peak_gflop_per_s": row_device(row).core_peak_gflops(data["core"]),
        "cpu_freq_before_khz": (data.get("env_before") or {}).get("cpu_cur_freq_khz"),
        "cpu_freq_after_khz": (data.get("env_after") or {}).get("cpu_cur_freq_khz"),
        "hottest_before_c": _hottest_c(data.get("env_before")),
        "hottest_after_c": _hottest_c(data.get("env_after")),
        "wall_s": data.get("wall_s"),
        "source": str(row.source),
    })
    return record


def preempted_sample(time_ms: float, cpu_ms: float | None, margin: dict[str, Any] | None) -> bool | None:
    """The runner's own rule (runner result v2): wall time above CPU time by more than max(a fraction of the
    wall time, a floor) means the thread was preempted. None when the runner recorded no CPU time (v1)."""
    if cpu_ms is None or not margin:
        return None
    return time_ms - cpu_ms > max(margin["fraction_of_wall"] * time_ms, margin["floor_ms"])


def _sample_frame(row: LoadedRow) -> pd.DataFrame:
    """One launch's timed inferences, one row each, built column-wise (a launch may hold 100,000 of them)."""
    identity = _identity(row)
    runner = row.data.get("runner") or {}
    timing = runner.get("timing") or {}
    times = np.asarray(timing.get("inference_ms") or [], dtype=float)
    cpu_list = timing.get("inference_cpu_ms")
    margin = (runner.get("interference") or {}).get("preempted_margin")
    if cpu_list:
        count = min(len(times), len(cpu_list))
        times, cpu = times[:count], np.asarray(cpu_list[:count], dtype=float)
        if margin:
            limit = np.maximum(margin["fraction_of_wall"] * times, margin["floor_ms"])
            preempted = pd.Series(times - cpu > limit, dtype=object)
        else:
            preempted = pd.Series([None] * count, dtype=object)
    else:
        cpu = np.full(len(times), np.nan)
        preempted = pd.Series([None] * len(times), dtype=object)
    return pd.DataFrame({**identity, "launch_index": row.data["launch_index"], "launch_kind": row.data["launch_kind"],
                         "iteration": np.arange(len(times)), "time_ms": times, "cpu_ms": cpu, "preempted": preempted},
                        columns=SAMPLE_COLUMNS, index=pd.RangeIndex(len(times)))


def _failure_record(row: LoadedRow) -> dict[str, Any]:
    data = row.data
    runner = data.get("runner") or {}
    stderr = (data.get("runner_stderr") or "").strip().replace("\n", " ")
    return {
        **_identity(row),
        "launch_index": data["launch_index"],
        "status": data["status"],
        "error_kind": runner.get("error_kind"),
        "message": runner.get("message"),
        "runner_exit_code": data.get("runner_exit_code"),
        "stderr_excerpt": stderr[:STDERR_EXCERPT_CHARS],
        "source": str(row.source),
    }


LAUNCH_COLUMNS = list(IDENTITY_COLUMNS) + [
    "launch_index", "launch_kind", "page_cache_dropped", "status", "pinned_to_core", *TIMING_FIELDS, "timed_inferences", *MEMORY_FIELDS,
    "flops", "output_size_bytes", "model_size_bytes", *(f"accuracy_{name}" for name in ACCURACY_FIELDS),
    "core_peak_gflop_per_s", "cpu_freq_before_khz", "cpu_freq_after_khz",
    "hottest_before_c", "hottest_after_c", "wall_s", "source",
]
SAMPLE_COLUMNS = list(IDENTITY_COLUMNS) + ["launch_index", "launch_kind", "iteration", "time_ms", "cpu_ms", "preempted"]
FAILURE_COLUMNS = list(IDENTITY_COLUMNS) + [
    "launch_index", "status", "error_kind", "message", "runner_exit_code", "stderr_excerpt", "source",
]


def build_tidy_tables(loaded: LoadedResults) -> TidyTables:
    """Samples come only from ok launches; failed launches go to their own table and never into statistics."""
    ok_rows = [row for row in loaded.rows if row.data["status"] == "ok"]
    failed_rows = [row for row in loaded.rows if row.data["status"] != "ok"]
    frames = [_sample_frame(row) for row in ok_rows]
    samples = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SAMPLE_COLUMNS)
    launches = pd.DataFrame([_launch_record(row) for row in loaded.rows], columns=LAUNCH_COLUMNS)
    failures = pd.DataFrame([_failure_record(row) for row in failed_rows], columns=FAILURE_COLUMNS)
    failures["runner_exit_code"] = failures["runner_exit_code"].astype("Int64")
    return TidyTables(samples=samples, launches=launches, failures=failures)
