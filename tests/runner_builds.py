"""Where the host builds of the runner live, and building them for the tests when missing or stale."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "android_app"
HOST_BUNDLE = APP / "build" / f"linux-{platform.machine()}" / "bundle"
LITE_BUNDLE = APP / "build" / f"linux-{platform.machine()}-lite" / "bundle"
RUNNER_EXECUTABLE = "splitbench_runner"


def _sources_newer_than(binary: Path) -> bool:
    built = binary.stat().st_mtime
    sources = [*(APP / "src").iterdir(), APP / "CMakeLists.txt", APP / "build_host.sh"]
    return any(source.stat().st_mtime > built for source in sources)


def ensure_bundle(bundle: Path, *build_args: str) -> Path:
    """The bundle folder, built with android_app/build_host.sh when missing or older than its sources."""
    runner = bundle / RUNNER_EXECUTABLE
    if not runner.is_file() or not (bundle / "bundle.json").is_file() or _sources_newer_than(runner):
        env = dict(os.environ, SPLITBENCH_VENV=str(REPO / ".venv"))
        subprocess.run(["bash", str(APP / "build_host.sh"), *build_args], check=True, cwd=REPO, env=env,
                       timeout=900, stdout=subprocess.DEVNULL)
    return bundle
