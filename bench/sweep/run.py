"""A run from request to rows: open (or resume) the run folder, learn the device, pick the
core and the runners (the plain one, and the one of each other runtime the programs need:
formats.backends), deploy, record run.json, then sweep.

``open_run`` does only local work (so the caller knows the run id before anything talks
to the device); ``execute_run`` does the rest through a DeviceLink.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.adb.device import Device
from bench.adb.reconnect import DeviceLink
from bench.device.cores import choose_core
from bench.device.facts import collect_device_facts
from bench.errors import SettingsError
from bench.sweep.core_peak import measure_core_peak
from bench.sweep.deploy import DeployReport, DeviceLayout, deploy, deploy_items
from bench.sweep.device_lock import (
    DeviceClaim,
    LockTakeover,
    acquire_device_lock,
    release_device_lock,
    stale_after_s_for,
)
from bench.sweep.leftovers import end_leftover_runners
from bench.sweep.loop import ProgressCallback, SweepPlan, SweepSummary, device_call, run_sweep
from bench.sweep.programs import LoadedManifest, Program, load_manifest_file, select_programs
from bench.sweep.record import RunLog, new_run_header
from bench.sweep.runners import RunnerBundle, find_runner_bundle
from bench.sweep.runtime_runners import (
    RuntimeRunnerChoice,
    check_deployed_runtime_runner,
    choose_runtime_runners,
    data_file_unsupported,
    record_runtime_runner,
    runtime_runner_deploy_failures,
    unsupported_programs,
)
from bench.sweep.settings import SweepConfig
from formats.device_facts import DeviceFacts
from formats.errors import ResultsError
from formats.run_folder import RUN_ID_PATTERN, RunFolder
from formats.run_info import check_resumable

IDENTITY_FIELDS = ("model", "manufacturer", "fingerprint", "abi", "platform")


@dataclass(frozen=True)
class RunRequest:
    serial_spec: str
    results_dir: Path
    manifest_path: Path | None = None  # None on resume: the run's own manifest
    config: SweepConfig = field(default_factory=SweepConfig)
    resume_run_id: str | None = None
    runner_bundle_dir: Path | None = None
    runtime_bundle_dirs: dict[str, Path] = field(default_factory=dict)  # runtime -> its runner build folder;
    # a runtime absent: its variant's build next to the plain bundle (formats.backends)
    build_root: Path | None = None
    transport: str = "direct"  # auto | server | direct (bench.adb.connection)
    adb_server: str | None = None  # HOST:PORT; None: ANDROID_ADB_SERVER_HOST/PORT, else 127.0.0.1:5037


@dataclass
class OpenedRun:
    run_id: str
    folder: RunFolder
    config: SweepConfig
    manifest: LoadedManifest
    programs: list[Program]
    previous_info: dict | None  # run.json of the run being resumed
    repaired_tail_bytes: int = 0

    def close(self) -> None:
        """Release the run folder's write lock (see RunFolder.lock_for_writing)."""
        self.folder.unlock()


@dataclass
class RunReport:
    run_id: str
    folder: Path
    device: DeviceFacts
    core: int
    bundle: RunnerBundle
    deploy: DeployReport
    summary: SweepSummary
    runtime_runners: dict[str, RuntimeRunnerChoice] = field(default_factory=dict)  # runtime -> its runner, for
    # every runtime but the primary one that the sweep's programs need (none: the plain runner runs them all)


def open_run(request: RunRequest) -> OpenedRun:
    """Check the manifest and the settings; for --resume, load run.json and repair a truncated last row."""
    if request.resume_run_id is None:
        if request.manifest_path is None:
            raise SettingsError("no manifest given; pass --manifest artifacts/export/manifest.json")
        manifest = load_manifest_file(request.manifest_path)
        programs = select_programs(manifest, request.config.configurations, request.config.backends,
                                   request.config.formats)
        folder = RunFolder.create(request.results_dir, request.serial_spec)
        folder.lock_for_writing()
        return OpenedRun(folder.run_id, folder, request.config, manifest, programs, previous_info=None)

    folder = RunFolder.open_existing(request.results_dir, request.resume_run_id)
    folder.lock_for_writing()
    try:
        return reopen_run(request, folder)
    except BaseException:
        folder.unlock()
        raise


def reopen_run(request: RunRequest, folder: RunFolder) -> OpenedRun:
    """The resumed run's settings, manifest and programs (its folder locked by the caller)."""
    info = folder.read_run_info()
    check_resumable(info, str(folder.run_path))
    try:
        config = SweepConfig.from_json(info["settings"])
    except (SettingsError, TypeError, ValueError) as exc:
        raise ResultsError(f"{folder.run_path}: its settings cannot be used ({exc}); the file is damaged: "
                           "restore it, or start a new run without --resume") from None
    manifest_path = request.manifest_path or Path(info["manifest"]["path"])
    manifest = load_manifest_file(manifest_path)
    if manifest.sha256 != info["manifest"]["sha256"]:
        raise ResultsError(f"{manifest_path} changed since run {folder.run_id} started (sha256 differs); "
                           "resume with the manifest the run used, or start a new run")
    programs = select_programs(manifest, config.configurations, config.backends, config.formats)
    check_rows_not_lost(info, folder)
    repaired = folder.repair_truncated_tail()
    return OpenedRun(folder.run_id, folder, config, manifest, programs, previous_info=info,
                     repaired_tail_bytes=repaired)


def check_rows_not_lost(info: dict, folder: RunFolder) -> None:
    """Stop a resume whose results.jsonl lost rows that run.json's sessions record as written (a resume would
    measure them again and bury the loss)."""
    sessions = info.get("sessions")
    recorded = sum(session.get("rows_written", 0) for session in sessions if isinstance(session, dict)
                   and isinstance(session.get("rows_written"), int)) if isinstance(sessions, list) else 0
    if recorded <= 0:
        return
    existing = folder.existing_rows() if folder.results_path.exists() else None
    # a last row cut by a crash counts as written: the resume repairs it and measures that launch again
    found = existing.count + (1 if existing.truncated_tail_bytes else 0) if existing is not None else 0
    if found == 0:
        raise ResultsError(f"{folder.results_path} is missing or empty although run {folder.run_id}'s run.json records "
                           f"{recorded} row(s) written: restore the file, or start a new run without --resume")
    if found < recorded:
        raise ResultsError(f"{folder.results_path} holds {found} row(s) but run {folder.run_id}'s run.json records "
                           f"{recorded} written: rows were lost; restore the file, or start a new run without --resume")


def check_same_device(previous: dict, device: DeviceFacts, run_id: str) -> None:
    before = {name: previous.get("device", {}).get(name) for name in IDENTITY_FIELDS}
    now = {name: getattr(device, name) for name in IDENTITY_FIELDS}
    if before != now:
        changed = ", ".join(f"{name} {before[name]!r} -> {now[name]!r}" for name in IDENTITY_FIELDS
                            if before[name] != now[name])
        raise ResultsError(f"run {run_id} was measured on another device ({changed}); "
                           "resume it on the same device, or start a new run without --resume")


def core_for_run(opened: OpenedRun, device: DeviceFacts) -> int:
    """A resumed run keeps its core; a new one takes --core or the fastest. Either must be online now."""
    if opened.previous_info is not None:
        check_same_device(opened.previous_info, device, opened.run_id)
        return choose_core(device, opened.previous_info["core"])
    return choose_core(device, opened.config.core)


def execute_run(opened: OpenedRun, request: RunRequest, link: DeviceLink,
                on_progress: ProgressCallback | None = None) -> RunReport:
    """Device facts, core, runner bundle, run.json, deploy, then the sweep (rows appended as they come).

    The run folder's write lock is released at the end, however the run ends."""
    try:
        return _execute_run(opened, request, link, on_progress)
    finally:
        opened.close()


def _execute_run(opened: OpenedRun, request: RunRequest, link: DeviceLink,
                 on_progress: ProgressCallback | None) -> RunReport:
    device = device_call(link, opened.run_id, lambda c: with_transport(collect_device_facts(c, request.serial_spec), c))
    core = core_for_run(opened, device)
    bundle = find_runner_bundle(device, build_root=request.build_root, folder=request.runner_bundle_dir)
    runtime_runners = choose_runtime_runners(device, bundle, opened.programs, request.runtime_bundle_dirs)
    layout = DeviceLayout.for_bundle(bundle)
    stale_after_s = stale_after_s_for(opened.config.launch_timeout_s, opened.config.cooldown_max_s)
    claim, takeover = device_call(link, opened.run_id, lambda c: acquire_device_lock(
        c, layout.root, opened.run_id, stale_after_s, request.serial_spec))
    try:
        base_info = opened.previous_info or new_run_header(
            opened.run_id, request.serial_spec, opened.config.to_json(), core, str(opened.manifest.path.resolve()),
            opened.manifest.sha256, opened.manifest.data.get("model") or {}, [p.program_id for p in opened.programs])
        log = RunLog.start(opened.folder, base_info, device, bundle, request.serial_spec, opened.repaired_tail_bytes)
        existing = opened.folder.existing_rows()
        with log.session_end(rows_before=existing.count):
            ended = device_call(link, opened.run_id, lambda c: end_leftover_runners(
                c, layout.root, leftover_run_ids(opened.run_id, takeover)))
            log.record_device_claim(takeover.to_json() if takeover else None, ended)
            items = deploy_items(bundle, opened.programs, layout,
                                 {name: c.bundle for name, c in runtime_runners.items() if c.bundle is not None})
            deploy_report = device_call(link, opened.run_id, lambda c: deploy(c, items, layout))
            log.record_deploy(deploy_report)
            if opened.config.measure_core_peak and deploy_report.first_failure_in(layout.runner.folder) is None:
                peak = device_call(link, opened.run_id, lambda c: measure_core_peak(c, layout.runner, core))
                if peak is not None:
                    device = replace(device, core_peaks=[peak])
                    log.record_device(device)
            deploy_failures = model_deploy_failures(opened.programs, deploy_report, layout)
            for name, choice in runtime_runners.items():
                choice = runtime_runners[name] = check_deployed_runtime_runner(
                    link, opened.run_id, choice, deploy_report, layout)
                deploy_failures.update(runtime_runner_deploy_failures(choice, opened.programs, deploy_report, layout))
                record_runtime_runner(log, choice)
            unsupported = unsupported_programs(runtime_runners, opened.programs)
            unsupported.update(data_file_unsupported(link, opened.run_id, bundle, opened.programs, deploy_report,
                                                     layout))
            plan = SweepPlan(run_id=opened.run_id, programs=opened.programs, config=opened.config, core=core,
                             layout=layout, device=device, completed=frozenset(existing.keys),
                             first_row_index=existing.count, deploy_failures=deploy_failures,
                             unsupported=unsupported, claim=claim)
            with opened.folder.open_writer() as writer:
                summary = run_sweep(link, plan, writer, on_progress=on_progress)
    except BaseException as exc:
        release_claim(link, claim, fresh_connection=isinstance(exc, KeyboardInterrupt))
        raise
    release_claim(link, claim, fresh_connection=False)
    return RunReport(opened.run_id, opened.folder.path, device, core, bundle, deploy_report, summary, runtime_runners)


def with_transport(device: DeviceFacts, connection: Device) -> DeviceFacts:
    """The facts with the transport that reached the device (direct, or server and its address)."""
    return replace(device, transport=connection.transport.kind, adb_server=connection.transport.server)


def leftover_run_ids(run_id: str, takeover: LockTakeover | None) -> list[str]:
    """This run's device folder and, after taking a dead sweep's lock, that sweep's run folder too."""
    previous = (takeover.previous_owner or {}).get("run_id") if takeover is not None else None
    if isinstance(previous, str) and RUN_ID_PATTERN.fullmatch(previous) and ".." not in previous and previous != run_id:
        return [run_id, previous]
    return [run_id]


def release_claim(link: DeviceLink, claim: DeviceClaim, fresh_connection: bool) -> bool:
    """Release the device lock, best effort (a lost device keeps it until its owner is seen to be gone).

    After Ctrl-C the connection may be mid-command: a fresh connection is used at once."""
    for fresh in ((True,) if fresh_connection else (False, True)):
        try:
            if fresh:
                link.drop()
            release_device_lock(link.current(), claim)
            return True
        except Exception:  # noqa: BLE001 - cleanup on the way out must not hide the sweep's own outcome
            continue
    return False


def model_deploy_failures(programs: list[Program], report: DeployReport, layout: DeviceLayout) -> dict[str, str]:
    """program id -> why its model file (or the data file holding its weights) is not on the device."""
    failures = {}
    for p in programs:
        failed = [path for path in layout.program_paths(p) if path in report.failures]
        if failed:
            failures[p.program_id] = report.failures[failed[0]]
    return failures
