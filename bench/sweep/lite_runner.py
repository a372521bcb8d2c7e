"""TorchScript Lite in the sweep, in one place: which runner build runs the .ptl programs, whether it is on
the device and can run them, and what run.json says about it.

.ptl programs run with the Lite build of the runner (``<platform>-<abi>-lite`` next to the plain bundle,
or --lite-runner-bundle). Without a usable one they become "unsupported" rows and the rest of the sweep runs.
"""

from __future__ import annotations

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
from formats.device_facts import DeviceFacts

LITE_RUNTIME = "torchscript_lite"  # the runtime name in `splitbench_runner --version`
LITE_VARIANT_SUFFIX = "-lite"
LITE_BUILD_COMMANDS = {"linux": "bash android_app/build_host.sh --with-lite"}


@dataclass(frozen=True)
class LiteRunnerChoice:
    """The Lite runner for the .ptl programs of a sweep, or why there is none (then they are not run)."""

    bundle: RunnerBundle | None
    unavailable_reason: str | None = None


def lite_bundle_folder_next_to(plain_folder: Path) -> Path:
    """``.../<platform>-<abi>/bundle`` -> ``.../<platform>-<abi>-lite/bundle``."""
    plain_folder = Path(plain_folder)
    variant = plain_folder.parent
    return variant.with_name(variant.name + LITE_VARIANT_SUFFIX) / plain_folder.name


def lite_runner_missing_reason(platform: str, abi: str, looked_in: Path) -> str:
    target = f"{platform}-{abi}"
    build_command = LITE_BUILD_COMMANDS.get(platform)
    if build_command is None:
        return (f"no TorchScript Lite runner for {target}: the {platform} build of the runner has no Lite runtime "
                f"(PyTorch Mobile is deprecated), so .ptl programs cannot run there; leave them out with "
                f"--formats xnnpack,portable, or pass --lite-runner-bundle DIR")
    return (f"no TorchScript Lite runner for {target} (looked in {looked_in}); build it with: {build_command} "
            f"(or pass --lite-runner-bundle DIR), then run the .ptl programs in a new run with --formats lite")


def find_lite_runner_bundle(facts: DeviceFacts, plain: RunnerBundle, folder: Path | None = None) -> LiteRunnerChoice:
    """The Lite bundle: ``folder`` if given, else the ``-lite`` build next to the plain bundle.

    A folder given on purpose must hold a bundle for the device (UnsupportedDevice otherwise);
    a missing or unusable default one only makes the .ptl programs unsupported.
    """
    if folder is not None:
        return LiteRunnerChoice(bundle=find_runner_bundle(facts, folder=folder))
    folder = lite_bundle_folder_next_to(plain.folder)
    if not (folder / "bundle.json").is_file():
        return LiteRunnerChoice(bundle=None,
                                unavailable_reason=lite_runner_missing_reason(plain.platform, plain.abi, folder))
    try:
        return LiteRunnerChoice(bundle=find_runner_bundle(facts, folder=folder))
    except UnsupportedDevice as exc:
        return LiteRunnerChoice(bundle=None, unavailable_reason=f"the TorchScript Lite runner is unusable: {exc}")


def lite_runtime_missing_reason(bundle: RunnerBundle, capabilities: dict | None) -> str | None:
    """Why the deployed Lite runner cannot run .ptl programs (its --version output), or None when it can."""
    runtimes = (capabilities or {}).get("runtimes")
    if isinstance(runtimes, list) and LITE_RUNTIME in runtimes:
        return None
    build_command = LITE_BUILD_COMMANDS.get(bundle.platform, build_hint(bundle.platform, bundle.abi))
    found = f"reports runtimes {runtimes}" if isinstance(runtimes, list) else "did not answer --version"
    return (f"the runner in {bundle.folder} {found}, without {LITE_RUNTIME}; "
            f"rebuild it with: {build_command}, or pass --lite-runner-bundle DIR")


def lite_runner_deploy_failures(lite_programs: list[Program], report: DeployReport,
                                layout: DeviceLayout) -> dict[str, str]:
    """program id -> message for every .ptl program when a Lite runner file is not on the device."""
    failure = report.first_failure_in(layout.lite_runner.folder)
    if failure is None:
        return {}
    message = f"could not put the TorchScript Lite runner on the device ({failure}); check the device's storage"
    return {p.program_id: message for p in lite_programs}


def check_deployed_lite_runner(link: DeviceLink, run_id: str, choice: LiteRunnerChoice, report: DeployReport,
                               layout: DeviceLayout) -> LiteRunnerChoice:
    """Ask the deployed Lite runner for its runtimes (--version); without torchscript_lite it cannot run .ptl."""
    if choice.bundle is None or report.first_failure_in(layout.lite_runner.folder) is not None:
        return choice
    capabilities = device_call(link, run_id, lambda c: read_runner_capabilities(c, layout.lite_runner))
    reason = lite_runtime_missing_reason(choice.bundle, capabilities)
    return choice if reason is None else LiteRunnerChoice(bundle=None, unavailable_reason=reason)


def record_lite_runner(log: RunLog, choice: LiteRunnerChoice) -> None:
    """The session's Lite runner in run.json: its bundle, or why the .ptl programs were not run."""
    bundle = choice.bundle
    log.session["lite_runner"] = {
        "folder": str(bundle.folder) if bundle else None,
        "runner_version": bundle.runner_version if bundle else None,
        "unavailable_reason": choice.unavailable_reason,
    }
    log.write()
