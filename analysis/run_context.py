"""What each sweep measured with: device, core, threads, iterations, warm-up, launches, cool-down, cold loads, versions."""

from dataclasses import dataclass
from typing import Any

from analysis.loading import LoadedResults, LoadedRow, LoadedRun
from analysis.tidy import pinned_to_core, row_device
from formats.device_facts import DeviceFacts

VGG16_FULL_PARAM_COUNT = 134_268_738  # 2-way head, as in the paper's gender classifier
NOT_VERSIONS = {"command"}  # run.json harness keys that are not versions


@dataclass(frozen=True)
class RunContext:
    run_id: str
    device: DeviceFacts
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
    return (run_info or {}).get("settings") or {}


def _harness_versions(run_info: dict[str, Any] | None, rows: list[LoadedRow]) -> dict[str, str]:
    versions: dict[str, str] = {}
    recorded = (run_info or {}).get("harness")
    if isinstance(recorded, dict):
        versions.update({str(name): str(value) for name, value in recorded.items()
                         if value is not None and name not in NOT_VERSIONS and not isinstance(value, (dict, list))})
    for row in rows:
        runner_info = (row.data.get("runner") or {}).get("runner") or {}
        for name, key in (("runner_version", "version"), ("runner_executorch", "executorch_version")):
            if runner_info.get(key) is not None:
                versions.setdefault(name, str(runner_info[key]))
    return versions


def _manifest_model(run_info: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest's model section as run.json keeps it (run.json version 2 on; empty before)."""
    return ((run_info or {}).get("manifest") or {}).get("model") or {}


def _environment_values(rows: list[LoadedRow], read) -> list[float]:
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


def _most_launches(rows: list[LoadedRow]) -> int:
    return max(row.data["launch_index"] for row in rows) + 1


def _distinct(values) -> tuple:
    return tuple(sorted({value for value in values if value is not None}))


def run_context(run: LoadedRun, rows: list[LoadedRow]) -> RunContext:
    device = (DeviceFacts.from_json(run.run_info["device"], f"{run.results_path.parent / 'run.json'} device")
              if run.run_info and run.run_info.get("device") else row_device(rows[0]))
    settings = _settings(run.run_info)
    options = [(row.data.get("runner") or {}).get("options") or {} for row in rows]
    cores = _distinct(row.data["core"] for row in rows)
    first_launches = [row for row in rows if row.data["launch_kind"] == "first"]
    full_counts = [row.data["manifest_entry"].get("param_count") for row in rows
                   if (row.data["manifest_entry"] or {}).get("configuration") == "full"]
    model = _manifest_model(run.run_info)
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
        time_cap_ms=settings.get("max_time_ms") or None,
        launches_per_program=settings.get("launches") or _most_launches(rows),
        cooldown_s=settings.get("cooldown_s"),
        cooldown_max_s=settings.get("cooldown_max_s"),
        page_cache_dropped_launches=sum(bool(row.data.get("page_cache_dropped")) for row in first_launches),
        first_launches=len(first_launches),
        drop_caches_possible=device.can_drop_caches,
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
