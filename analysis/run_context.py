"""What each sweep measured with: device, core, threads, iterations, warm-up, launches, cool-down, cold loads, versions."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.device_facts import DeviceDescription, describe_device, first_present
from analysis.loading import LoadedResults, ResultRow, RunFolder
from analysis.tidy import pinned_to_core

VGG16_FULL_PARAM_COUNT = 134_268_738  # 2-way head, as in the paper's gender classifier
NOT_VERSIONS = {"command"}  # run.json harness keys that are not versions


@dataclass(frozen=True)
class RunContext:
    run_id: str
    device: DeviceDescription
    cores: tuple[int, ...]
    core_max_freq_khz: dict[int, int | None]
    core_governor: dict[int, str | None]
    threads: tuple[int, ...]
    iterations: tuple[int, ...]
    warmup: tuple[int, ...]
    recorded_inferences_range: tuple[int, int] | None  # timed inferences actually recorded per successful launch
    time_cap_ms: int | None                             # the runner's --max-time-ms, None when uncapped
    launches_per_program: int
    cooldown_s: float | None
    cooldown_max_s: float | None
    page_cache_dropped_launches: int
    first_launches: int
    drop_caches_possible: bool | None
    harness_versions: dict[str, str]
    model_weights: str | None
    full_param_count: int | None
    ok_launches: int
    ok_launches_seen_off_core: int    # the runner saw itself on a CPU other than the requested core
    ok_launches_unobserved_core: int  # the runner could not tell which CPU it ran on
    core_freq_range_khz: tuple[int, int] | None     # lowest and highest frequency read before/after launches
    hottest_zone_range_c: tuple[float, float] | None  # coolest and hottest "hottest zone" before/after launches


def _settings(run_info: dict[str, Any] | None) -> dict[str, Any]:
    if not run_info:
        return {}
    settings = first_present(run_info, ("settings", "sweep", "config"))
    return settings if isinstance(settings, dict) else run_info


def _harness_versions(run_info: dict[str, Any] | None, rows: list[ResultRow]) -> dict[str, str]:
    versions: dict[str, str] = {}
    recorded = first_present(run_info, ("harness_versions", "versions", "harness")) if run_info else None
    if isinstance(recorded, dict):
        versions.update({str(name): str(value) for name, value in recorded.items()
                         if value is not None and name not in NOT_VERSIONS and not isinstance(value, (dict, list))})
    for row in rows:
        runner_info = (row.data.get("runner") or {}).get("runner") or {}
        for name, key in (("runner_version", "version"), ("runner_executorch", "executorch_version")):
            if runner_info.get(key) is not None:
                versions.setdefault(name, str(runner_info[key]))
    return versions


def _manifest_model(run_info: dict[str, Any] | None, run_folder: Path) -> dict[str, Any]:
    """The manifest's model section when run.json names a manifest that is still on disk."""
    manifest = first_present(run_info, ("manifest",)) if run_info else None
    path_text = first_present(manifest, ("path",)) if isinstance(manifest, dict) else manifest
    if not isinstance(path_text, str):
        return {}
    for candidate in (Path(path_text), run_folder / path_text):
        if candidate.is_file():
            try:
                return json.loads(candidate.read_text(encoding="utf-8")).get("model") or {}
            except (json.JSONDecodeError, OSError, AttributeError):
                return {}
    return {}


def _environment_values(rows: list[ResultRow], read) -> list[float]:
    values = []
    for row in rows:
        for environment in (row.data.get("env_before"), row.data.get("env_after")):
            value = read(environment) if isinstance(environment, dict) else None
            if isinstance(value, (int, float)):
                values.append(value)
    return values


def _hottest_zone_c(environment: dict[str, Any]) -> float | None:
    temperatures = [value for value in (environment.get("temperatures_c") or {}).values() if isinstance(value, (int, float))]
    return max(temperatures) if temperatures else None


def _value_range(values: list) -> tuple | None:
    return (min(values), max(values)) if values else None


def _most_launches(rows: list[ResultRow]) -> int:
    return max(row.data["launch_index"] for row in rows) + 1


def _distinct(values) -> tuple:
    return tuple(sorted({value for value in values if value is not None}))


def run_context(run: RunFolder, rows: list[ResultRow]) -> RunContext:
    first_row = rows[0].data
    device_facts = first_present(run.run_info, ("device",)) or first_row["device"]
    device = describe_device(device_facts, first_row.get("runner"))
    settings = _settings(run.run_info)
    options = [(row.data.get("runner") or {}).get("options") or {} for row in rows]
    cores = _distinct(row.data["core"] for row in rows)
    first_launches = [row for row in rows if row.data["launch_kind"] == "first"]
    root = device.is_root
    drop_caches = first_present(device_facts, ("drop_caches_possible", "can_drop_caches"))
    full_counts = [row.data["manifest_entry"].get("param_count") for row in rows
                   if (row.data["manifest_entry"] or {}).get("configuration") == "full"]
    model = _manifest_model(run.run_info, run.results_path.parent)
    pinning = [pinned_to_core(row.data.get("runner"), row.data["core"]) for row in rows if row.data["status"] == "ok"]
    return RunContext(
        run_id=run.run_id,
        device=device,
        cores=cores,
        core_max_freq_khz={core: getattr(device.core(core), "max_freq_khz", None) for core in cores},
        core_governor={core: getattr(device.core(core), "governor", None) for core in cores},
        threads=_distinct(row.data["threads"] for row in rows),
        iterations=_distinct(option.get("iterations") for option in options) or _distinct([settings.get("iterations")]),
        warmup=_distinct(option.get("warmup") for option in options) or _distinct([settings.get("warmup")]),
        recorded_inferences_range=_value_range([len(((row.data.get("runner") or {}).get("timing") or {}).get("inference_ms") or [])
                                                for row in rows if row.data["status"] == "ok"]),
        time_cap_ms=first_present(settings, ("max_time_ms",)) or None,
        launches_per_program=first_present(settings, ("launches",)) or _most_launches(rows),
        cooldown_s=first_present(settings, ("cooldown_s",)),
        cooldown_max_s=first_present(settings, ("cooldown_max_s",)),
        page_cache_dropped_launches=sum(bool(row.data.get("page_cache_dropped")) for row in first_launches),
        first_launches=len(first_launches),
        drop_caches_possible=bool(drop_caches) if drop_caches is not None else root,
        harness_versions=_harness_versions(run.run_info, rows),
        model_weights=model.get("weights"),
        full_param_count=full_counts[0] if full_counts else None,
        ok_launches=len(pinning),
        ok_launches_seen_off_core=sum(value is False for value in pinning),
        ok_launches_unobserved_core=sum(value is None for value in pinning),
        core_freq_range_khz=_value_range(_environment_values(rows, lambda environment: environment.get("cpu_cur_freq_khz"))),
        hottest_zone_range_c=_value_range(_environment_values(rows, _hottest_zone_c)),
    )


def run_contexts(loaded: LoadedResults) -> list[RunContext]:
    contexts = []
    for run in loaded.runs:
        rows = [row for row in loaded.rows if row.source.path == run.results_path]
        if rows:
            contexts.append(run_context(run, rows))
    return contexts
