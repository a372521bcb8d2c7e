"""Where the glibc-bundled Android builds of the runner live, and building them for the tests when missing or
stale (android_app/build_android.sh ABI, no NDK)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from runner_builds import APP, REPO

ABI_MACHINES = {"arm64-v8a": "aarch64", "x86_64": "x86_64"}


def android_bundle_folder(abi: str) -> Path:
    return APP / "build" / f"android-{abi}" / "bundle"


def _inputs() -> list[Path]:
    """Everything a bundle is built from: the runner's sources and the build scripts and cmake files."""
    return [*(APP / "src").iterdir(), *(APP / "cmake").iterdir(), APP / "CMakeLists.txt",
            APP / "build_android.sh", APP / "fetch_wheel.sh"]


def ensure_android_bundle(abi: str) -> Path:
    """The bundle folder of `abi`, built with android_app/build_android.sh when missing or older than its inputs
    (bundle.json is written last, so its time is the build's)."""
    bundle = android_bundle_folder(abi)
    manifest = bundle / "bundle.json"
    stale = not manifest.is_file() or any(p.stat().st_mtime > manifest.stat().st_mtime for p in _inputs())
    if stale:
        env = dict(os.environ, SPLITBENCH_PYTHON=str(REPO / ".venv" / "bin" / "python"))
        subprocess.run(["bash", str(APP / "build_android.sh"), abi], check=True, cwd=REPO, env=env,
                       timeout=1200, stdout=subprocess.DEVNULL)
    return bundle
