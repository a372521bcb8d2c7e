"""Find the runner build (bundle.json + files, read by formats.bundle) that matches a device's platform and ABI.

Two builds exist per platform and ABI: the plain one (ExecuTorch only) in
``<build_root>/<platform>-<abi>/bundle`` and the TorchScript Lite one (ExecuTorch + Lite, for
.ptl programs) next to it in ``<build_root>/<platform>-<abi>-lite/bundle``.
"""

from __future__ import annotations

from pathlib import Path

from bench.errors import UnsupportedDevice
from formats.abi import is_known_abi
from formats.bundle import RUNNER_EXECUTABLE as RUNNER_EXECUTABLE  # re-exported for deploy and the tests
from formats.bundle import RunnerBundle, read_bundle
from formats.device_facts import DeviceFacts
from formats.display_text import shown
from formats.errors import FormatError

ANDROID_ABIS = ("arm64-v8a", "x86_64")  # the ABIs android_app/build_android.sh builds a runner for
BUILD_SCRIPTS = {"android": "android_app/build_android.sh", "linux": "android_app/build_host.sh"}


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
    """Read and check ``folder/bundle.json`` with its reader (formats.bundle: every listed file exists with the
    listed size, inside the bundle folder); UnsupportedDevice saying how to rebuild otherwise."""
    try:
        return read_bundle(folder)
    except FormatError as exc:
        raise UnsupportedDevice(str(exc)) from None
