"""The runner builds of the runtimes other than the primary one (formats.backends.RUNTIME_TABLE; TorchScript Lite
today), in one place: which build runs a runtime's programs, whether it is on the device and can run them, and
what run.json says about it. Nothing here names a runtime: each is a row of the table.

A runtime's programs run with its runner variant (``<platform>-<abi><variant>`` next to the plain bundle, or the
folder given with its option, e.g. --lite-runner-bundle). Without a usable one they become "unsupported" rows and
the rest of the sweep runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.adb.reconnect import DeviceLink
from bench.errors import UnsupportedDevice
from bench.sweep.deploy import DeployReport, DeviceLayout
from bench.sweep.launch import read_runner_capabilities
from bench.sweep.loop import device_call
from bench.sweep.programs import Program
from bench.sweep.record import RunLog
from bench.sweep.runners import RunnerBundle, build_hint, find_runner_bundle
from formats.backends import PROGRAM_FORMATS, RUNTIME_TABLE, Runtime, runtime_formats
from formats.device_facts import DeviceFacts
from formats.run_info import RuntimeRunnerRecord


@dataclass(frozen=True)
class RuntimeRunnerChoice:
    """The runner build for one runtime's programs of a sweep, or why there is none (then they are not run)."""

    runtime: Runtime
    bundle: RunnerBundle | None
    unavailable_reason: str | None = None


def runtimes_needed(programs: list[Program]) -> list[Runtime]:
    """The non-primary runtimes the programs need, in the table's order."""
    names = {program.runtime.name for program in programs}
    return [runtime for runtime in RUNTIME_TABLE if runtime.name in names and not runtime.primary]


def variant_folder_next_to(plain_folder: Path, runtime: Runtime) -> Path:
    """``.../<platform>-<abi>/bundle`` -> ``.../<platform>-<abi><variant>/bundle``."""
    plain_folder = Path(plain_folder)
    variant = plain_folder.parent
    return variant.with_name(variant.name + runtime.variant) / plain_folder.name


def runner_missing_reason(runtime: Runtime, platform: str, abi: str, looked_in: Path) -> str:
    target = f"{platform}-{abi}"
    formats = runtime_formats(runtime)
    files = " and ".join(f".{name}" for name in formats)
    build_command = runtime.build_command(platform)
    if build_command is None:
        others = ",".join(name for name in PROGRAM_FORMATS if name not in formats)
        return (f"no {runtime.label} runner for {target}: the {platform} build of the runner has no {runtime.label} "
                f"runtime{f' ({runtime.note})' if runtime.note else ''}, so {files} programs cannot run there; "
                f"leave them out with --formats {others}, or pass {runtime.bundle_option} DIR")
    return (f"no {runtime.label} runner for {target} (looked in {looked_in}); build it with: {build_command} "
            f"(or pass {runtime.bundle_option} DIR), then run the {files} programs in a new run with "
            f"--formats {','.join(formats)}")


def find_runtime_runner_bundle(facts: DeviceFacts, runtime: Runtime, plain: RunnerBundle,
                               folder: Path | None = None) -> RuntimeRunnerChoice:
    """The runtime's bundle: ``folder`` if given, else its variant's build next to the plain bundle.

    A folder given on purpose must hold a bundle for the device (UnsupportedDevice otherwise);
    a missing or unusable default one only makes the runtime's programs unsupported.
    """
    if folder is not None:
        return RuntimeRunnerChoice(runtime, bundle=find_runner_bundle(facts, folder=folder))
    folder = variant_folder_next_to(plain.folder, runtime)
    if not (folder / "bundle.json").is_file():
        return RuntimeRunnerChoice(runtime, bundle=None,
                                   unavailable_reason=runner_missing_reason(runtime, plain.platform, plain.abi, folder))
    try:
        return RuntimeRunnerChoice(runtime, bundle=find_runner_bundle(facts, folder=folder))
    except UnsupportedDevice as exc:
        return RuntimeRunnerChoice(runtime, bundle=None,
                                   unavailable_reason=f"the {runtime.label} runner is unusable: {exc}")


def choose_runtime_runners(facts: DeviceFacts, plain: RunnerBundle, programs: list[Program],
                           folders: Mapping[str, Path]) -> dict[str, RuntimeRunnerChoice]:
    """runtime name -> its runner build (or why there is none), for every non-primary runtime the programs need."""
    return {runtime.name: find_runtime_runner_bundle(facts, runtime, plain, folders.get(runtime.name))
            for runtime in runtimes_needed(programs)}


def runtime_missing_reason(choice: RuntimeRunnerChoice, capabilities: dict | None) -> str | None:
    """Why the deployed runner cannot run the runtime's programs (its --version output), or None when it can."""
    runtime, bundle = choice.runtime, choice.bundle
    assert bundle is not None
    runtimes = (capabilities or {}).get("runtimes")
    if isinstance(runtimes, list) and runtime.name in runtimes:
        return None
    build_command = runtime.build_command(bundle.platform) or build_hint(bundle.platform, bundle.abi)
    found = f"reports runtimes {runtimes}" if isinstance(runtimes, list) else "did not answer --version"
    return (f"the runner in {bundle.folder} {found}, without {runtime.name}; "
            f"rebuild it with: {build_command}, or pass {runtime.bundle_option} DIR")


def runtime_runner_deploy_failures(choice: RuntimeRunnerChoice, programs: list[Program], report: DeployReport,
                                   layout: DeviceLayout) -> dict[str, str]:
    """program id -> message for every program of the runtime when a file of its runner is not on the device."""
    failure = report.first_failure_in(layout.runner_of(choice.runtime.name).folder)
    if failure is None:
        return {}
    message = f"could not put the {choice.runtime.label} runner on the device ({failure}); check the device's storage"
    return {p.program_id: message for p in programs if p.runtime == choice.runtime}


def check_deployed_runtime_runner(link: DeviceLink, run_id: str, choice: RuntimeRunnerChoice, report: DeployReport,
                                  layout: DeviceLayout) -> RuntimeRunnerChoice:
    """Ask the deployed runner for its runtimes (--version); without the choice's runtime it cannot run its programs."""
    runner = layout.runner_of(choice.runtime.name)
    if choice.bundle is None or report.first_failure_in(runner.folder) is not None:
        return choice
    capabilities = device_call(link, run_id, lambda c: read_runner_capabilities(c, runner))
    reason = runtime_missing_reason(choice, capabilities)
    return choice if reason is None else RuntimeRunnerChoice(choice.runtime, bundle=None, unavailable_reason=reason)


def unsupported_programs(choices: Mapping[str, RuntimeRunnerChoice], programs: list[Program]) -> dict[str, str]:
    """program id -> why it is not run, for the programs of a runtime without a usable runner."""
    return {p.program_id: choices[p.runtime.name].unavailable_reason or "" for p in programs
            if p.runtime.name in choices and choices[p.runtime.name].unavailable_reason}


def record_runtime_runner(log: RunLog, choice: RuntimeRunnerChoice) -> None:
    """The session's runner of this runtime in run.json (its session field): its bundle, or why its programs were
    not run."""
    bundle = choice.bundle
    log.record_runtime_runner(choice.runtime.session_field or f"{choice.runtime.name}_runner", RuntimeRunnerRecord(
        folder=str(bundle.folder) if bundle else None, runner_version=bundle.runner_version if bundle else None,
        unavailable_reason=choice.unavailable_reason))


def data_file_unsupported(link: DeviceLink, run_id: str, bundle: RunnerBundle, programs: list[Program],
                          report: DeployReport, layout: DeviceLayout) -> dict[str, str]:
    """program id -> why it is not run, for the programs that keep their weights in a data file when the deployed
    plain runner cannot load one (a build from before `--data`: its --version lacks `data_files`)."""
    needing = [p for p in programs if p.data_local_path is not None and p.runtime.primary]
    if not needing or report.first_failure_in(layout.runner.folder) is not None:
        return {}
    capabilities = device_call(link, run_id, lambda c: read_runner_capabilities(c, layout.runner))
    if (capabilities or {}).get("data_files") is True:
        return {}
    message = (f"the runner in {bundle.folder} cannot load a data file (.ptd; its --version lacks data_files); "
               f"rebuild it with: {build_hint(bundle.platform, bundle.abi)}, or re-export with "
               "--device-weights embedded")
    return {p.program_id: message for p in needing}
