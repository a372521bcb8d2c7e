"""Find and read the runner build (bundle.json + files) that matches a device's platform and ABI.

Two builds exist per platform and ABI: the plain one (ExecuTorch only) in
``<build_root>/<platform>-<abi>/bundle`` and the TorchScript Lite one (ExecuTorch + Lite, for
.ptl programs) next to it in ``<build_root>/<platform>-<abi>-lite/bundle``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.errors import UnsupportedDevice
from formats.abi import is_known_abi
from formats.device_facts import DeviceFacts
from formats.display_text import shown

RUNNER_BUNDLE_SCHEMA = "splitbench.runner_bundle"
RUNNER_BUNDLE_SCHEMA_VERSIONS = (1, 2)  # 2 added launch, libc, source_wheel, elf_machine, max_elf_load_align_bytes
RUNNER_EXECUTABLE = "splitbench_runner"
ANDROID_ABIS = ("arm64-v8a", "x86_64")  # the ABIs android_app/build_android.sh builds a runner for
BUILD_SCRIPTS = {"android": "android_app/build_android.sh", "linux": "android_app/build_host.sh"}


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
    loader: str | None = None  # bundle.json launch.loader: start the runner through this bundled ELF loader
    library_path: tuple[str, ...] = ("lib",)  # bundle.json launch.library_path
    libc: str = "system"  # "system" | "glibc-bundled"

    @property
    def total_size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    def local_path(self, bundle_file: BundleFile) -> Path:
        return self.folder / bundle_file.path


def default_build_root() -> Path:
    return Path(__file__).resolve().parents[2] / "android_app" / "build"


def bundle_folder_for(platform: str, abi: str, build_root: Path) -> Path:
    if platform not in BUILD_SCRIPTS or not is_known_abi(abi):  # device text never becomes a path unchecked
        raise UnsupportedDevice(f"unknown platform-ABI {shown(platform)}-{shown(abi)}: no runner can be built for it")
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
    if folder is None and facts.platform == "android" and facts.abi not in ANDROID_ABIS:
        raise UnsupportedDevice(
            f"{facts.serial} is an Android {facts.abi} device; splitbench's runner is built for Android "
            f"{' and '.join(ANDROID_ABIS)} only: use a device of one of those ABIs")
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
        launch = data["launch"] if data["schema_version"] >= 2 else {"loader": None, "library_path": ["lib"]}
        bundle = RunnerBundle(folder=folder, platform=data["platform"], abi=data["abi"],
                              runner_version=data.get("runner_version"), files=files,
                              loader=launch["loader"], library_path=tuple(launch["library_path"]),
                              libc=data["libc"] if data["schema_version"] >= 2 else "system")
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsupportedDevice(f"{bundle_json} lacks a field ({exc}); rebuild the runner") from None
    if bundle.loader is not None and not any(f.path == bundle.loader for f in files):
        raise UnsupportedDevice(f"{bundle_json} launches through {bundle.loader}, which it does not list; rebuild the runner")
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
