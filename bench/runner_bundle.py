"""Find and read the runner build (bundle.json + files) that matches a device's platform and ABI.

Two builds exist per platform and ABI: the plain one (ExecuTorch only) in
``<build_root>/<platform>-<abi>/bundle`` and the TorchScript Lite one (ExecuTorch + Lite, for
.ptl programs) next to it in ``<build_root>/<platform>-<abi>-lite/bundle``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.device_facts import DeviceFacts
from bench.errors import UnsupportedDevice

RUNNER_BUNDLE_SCHEMA = "splitbench.runner_bundle"
RUNNER_BUNDLE_SCHEMA_VERSIONS = (1,)
RUNNER_EXECUTABLE = "splitbench_runner"
BUILD_SCRIPTS = {"android": "android_app/build_android.sh", "linux": "android_app/build_host.sh"}
LITE_RUNTIME = "torchscript_lite"  # the runtime name in `splitbench_runner --version`
LITE_VARIANT_SUFFIX = "-lite"
LITE_BUILD_COMMANDS = {"linux": "bash android_app/build_host.sh --with-lite"}


@dataclass(frozen=True)
class BundleFile:
    path: str  # relative to the bundle folder, "/"-separated
    sha256: str
    size_bytes: int
    mode: int


@dataclass(frozen=True)
class RunnerBundle:
    folder: Path
    platform: str
    abi: str
    runner_version: str | None
    files: tuple[BundleFile, ...]

    @property
    def total_size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    def local_path(self, bundle_file: BundleFile) -> Path:
        return self.folder / bundle_file.path


def default_build_root() -> Path:
    return Path(__file__).resolve().parent.parent / "android_app" / "build"


def bundle_folder_for(platform: str, abi: str, build_root: Path) -> Path:
    return build_root / f"{platform}-{abi}" / "bundle"


def build_hint(platform: str | None, abi: str | None) -> str:
    script = BUILD_SCRIPTS.get(platform or "", "android_app/build_android.sh")
    if platform == "android" and abi:
        return f"bash {script} {abi}"
    return f"bash {script}"


def find_runner_bundle(facts: DeviceFacts, build_root: Path | None = None, folder: Path | None = None) -> RunnerBundle:
    """The bundle for the device: ``folder`` if given, else build_root/<platform>-<abi>/bundle.

    Raises UnsupportedDevice when the device's platform/ABI is unknown, when no bundle is
    built for it, or when the given bundle was built for another platform or ABI.
    """
    if not facts.platform or not facts.abi:
        raise UnsupportedDevice(
            f"could not tell the platform/ABI of {facts.serial} (uname -o: {facts.kernel_os!r}, "
            f"uname -m: {facts.machine!r}); the runner supports Android and GNU/Linux devices"
        )
    if folder is None:
        folder = bundle_folder_for(facts.platform, facts.abi, build_root or default_build_root())
        if not (folder / "bundle.json").is_file():
            raise UnsupportedDevice(
                f"no runner built for {facts.platform}-{facts.abi} (looked in {folder}); "
                f"build it with: {build_hint(facts.platform, facts.abi)}"
            )
    bundle = load_runner_bundle(folder)
    if (bundle.platform, bundle.abi) != (facts.platform, facts.abi):
        raise UnsupportedDevice(
            f"runner bundle {folder} is for {bundle.platform}-{bundle.abi} but {facts.serial} is "
            f"{facts.platform}-{facts.abi}; build the right one with: {build_hint(facts.platform, facts.abi)}"
        )
    return bundle


def load_runner_bundle(folder: Path) -> RunnerBundle:
    """Read and check ``folder/bundle.json``; every listed file must exist with the listed size."""
    folder = Path(folder)
    bundle_json = folder / "bundle.json"
    try:
        data = json.loads(bundle_json.read_text())
    except FileNotFoundError:
        raise UnsupportedDevice(f"{bundle_json} does not exist; build the runner with android_app/build_host.sh "
                                "or android_app/build_android.sh") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UnsupportedDevice(f"{bundle_json} is unreadable ({exc}); rebuild the runner") from None
    if data.get("schema") != RUNNER_BUNDLE_SCHEMA or data.get("schema_version") not in RUNNER_BUNDLE_SCHEMA_VERSIONS:
        raise UnsupportedDevice(
            f"{bundle_json} has schema {data.get('schema')!r} version {data.get('schema_version')!r}; "
            f"this harness reads {RUNNER_BUNDLE_SCHEMA} versions {list(RUNNER_BUNDLE_SCHEMA_VERSIONS)}: "
            "rebuild the runner"
        )
    try:
        files = tuple(
            BundleFile(path=f["path"], sha256=f["sha256"], size_bytes=int(f["size_bytes"]),
                       mode=parse_mode(f.get("mode")))
            for f in data["files"]
        )
        bundle = RunnerBundle(folder=folder, platform=data["platform"], abi=data["abi"],
                              runner_version=data.get("runner_version"), files=files)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsupportedDevice(f"{bundle_json} lacks a field ({exc}); rebuild the runner") from None
    if not any(f.path == RUNNER_EXECUTABLE for f in files):
        raise UnsupportedDevice(f"{bundle_json} lists no {RUNNER_EXECUTABLE}; rebuild the runner")
    for bundle_file in files:
        local = bundle.local_path(bundle_file)
        if not local.is_file() or local.stat().st_size != bundle_file.size_bytes:
            raise UnsupportedDevice(f"{local} is missing or differs from {bundle_json}; rebuild the runner")
    return bundle


def parse_mode(mode: object) -> int:
    """bundle.json modes may be ints or octal strings such as "0755"."""
    if mode is None:
        return 0o644
    if isinstance(mode, int):
        return mode
    return int(str(mode), 8)


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
