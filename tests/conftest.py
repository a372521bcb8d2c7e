"""Shared fixtures. `small_export` is the reduced-size export every stage's tests can run against;
`host_runner_bundle` and `lite_runner_bundle` are the host builds of the runner; `device` is a loopback device
and `outside` a host folder no device path may reach (for the bench and the loopback tests).

export/ (and with it torch) is imported inside the fixtures, so test modules that do not use them
collect without loading torch.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings
from runner_builds import HOST_BUNDLE, LITE_BUNDLE, ensure_bundle
from small_export_config import small_export_config

if TYPE_CHECKING:
    from formats.manifest import Manifest

SMALL_EXPORT_CACHE = "splitbench_small_export"
# A test that needs an export or a runner build is slow: the quick run (`pytest -m "not slow"`) leaves it out.
# Tests that take half a second or more for another reason carry @pytest.mark.slow themselves.
SLOW_FIXTURES = frozenset({"small_export", "host_runner_bundle", "lite_runner_bundle"})


# Hypothesis profiles for the fuzz tests (tests/fuzz): the quick run (-m "not slow") tries a few dozen inputs per
# target, a full run (CI) thousands. SPLITBENCH_FUZZ_PROFILE=quick|thorough overrides the choice.
settings.register_profile("quick", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def pytest_configure(config):
    quick = "not slow" in (config.getoption("markexpr", "") or "")
    settings.load_profile(os.environ.get("SPLITBENCH_FUZZ_PROFILE") or ("quick" if quick else "thorough"))
    keep_tests_off_the_users_adb_server()


def keep_tests_off_the_users_adb_server() -> None:
    """The `auto` transport asks the adb server of ANDROID_ADB_SERVER_HOST/PORT (default 127.0.0.1:5037) whether it
    lists a serial: point it at a port nobody serves, so that no test reaches a server the user runs (tests that
    want a server start Debian's adb on a private port and pass it). A real-phone run (ANDROID_SERIAL) keeps it."""
    if os.environ.get("ANDROID_SERIAL"):
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unserved_port = probe.getsockname()[1]
    os.environ["ANDROID_ADB_SERVER_HOST"] = "127.0.0.1"
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(unserved_port)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def small_export(request, tmp_path_factory) -> tuple[Path, Manifest]:
    """(manifest_path, Manifest) of the reduced-size export (24 programs), in a fresh temporary folder.

    The programs are built once into pytest's cache folder (content-addressed, so later sessions only verify
    hashes, about 2 s; the first build takes about a minute) and copied from there; the copy is private to
    this session.
    """
    from export.pipeline import MANIFEST_NAME, run_export
    from formats.manifest import load_manifest

    cache = getattr(request.config, "cache", None)
    build_dir = Path(cache.mkdir(SMALL_EXPORT_CACHE)) if cache is not None else tmp_path_factory.mktemp("small_build")
    with open(build_dir.parent / (build_dir.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent sessions share the build folder
        run_export(small_export_config(build_dir))
        out_dir = tmp_path_factory.mktemp("small_export") / "export"
        shutil.copytree(build_dir, out_dir)
    manifest_path = out_dir / MANIFEST_NAME
    return manifest_path, load_manifest(manifest_path)


@pytest.fixture(scope="session")
def host_runner_bundle() -> Path:
    """The host build of the runner (ExecuTorch only)."""
    return ensure_bundle(HOST_BUNDLE)


@pytest.fixture(scope="session")
def lite_runner_bundle() -> Path:
    """The host build of the runner with TorchScript Lite (links libtorch; about 450 MB)."""
    return ensure_bundle(LITE_BUNDLE, "--with-lite")


@pytest.fixture
def device(tmp_path):
    """A loopback ADB device serving its own sandbox below tmp_path, stopped after the test."""
    from loopback import LoopbackDevice

    with LoopbackDevice(tmp_path / "sandbox") as loopback:
        yield loopback


@pytest.fixture
def outside(tmp_path):
    """A host folder beside the device's sandbox, with a file no device path may reach."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("host secret\n")
    return folder
