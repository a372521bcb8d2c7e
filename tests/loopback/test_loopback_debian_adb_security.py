"""The loopback device's access rules and sandbox against Debian's adb client and server (apt-get install adb).

Each test runs a private adb server (its own port and HOME) and stops it afterwards.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.adb.keys import ensure_key_pair
from loopback import LoopbackDevice
from scripts.adb_server import private_adb_server

pytestmark = pytest.mark.slow  # drives a real adb server


@pytest.fixture
def adb(tmp_path):
    executable = shutil.which("adb") or ("/usr/bin/adb" if Path("/usr/bin/adb").exists() else None)
    if executable is None:
        pytest.fail("Debian's adb client is needed for these tests: run `sudo apt-get install -y adb` (CI does)")
    home = tmp_path / "home"
    ensure_key_pair(home / ".android" / "adbkey")
    with private_adb_server(executable, home) as env:
        def run(*args, timeout_s=30):
            return subprocess.run([executable, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout_s)
        yield run


def wait_until_device(adb, serial, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if f"{serial}\tdevice" in adb("devices").stdout.decode():
            return
        time.sleep(0.1)
    raise AssertionError(f"{serial} never came online: {adb('devices').stdout.decode()}")


def test_adb_pull_outside_the_sandbox_is_refused(adb, tmp_path, outside):
    with LoopbackDevice(tmp_path / "sandbox") as device:
        adb("connect", device.serial)
        wait_until_device(adb, device.serial)
        for path in (str(outside / "secret.txt"), "/data/local/tmp/../../.." + str(outside / "secret.txt")):
            result = adb("-s", device.serial, "pull", path, str(tmp_path / "pulled.txt"))
            assert result.returncode != 0
            assert b"does not exist" in result.stdout + result.stderr  # adb stats first; STAT shows nothing
            assert not (tmp_path / "pulled.txt").exists()
        assert adb("-s", device.serial, "pull", "/proc/cpuinfo", str(tmp_path / "cpuinfo")).returncode == 0


def test_adb_push_through_a_linked_folder_is_no_way_out(adb, tmp_path, outside):
    payload = tmp_path / "payload.txt"
    payload.write_text("pushed\n")
    with LoopbackDevice(tmp_path / "sandbox") as device:
        adb("connect", device.serial)
        wait_until_device(adb, device.serial)
        assert adb("-s", device.serial, "shell", f"ln -s {outside} /data/local/tmp/out").returncode == 0
        result = adb("-s", device.serial, "push", str(payload), "/data/local/tmp/out/planted.txt")
        assert result.returncode != 0
        assert b"Permission denied" in result.stdout + result.stderr
        assert not (outside / "planted.txt").exists()
        assert adb("-s", device.serial, "shell", "echo", "alive").stdout == b"alive\n"


def test_adb_server_of_another_uid_never_gets_the_device_online(adb, tmp_path):
    with LoopbackDevice(tmp_path / "sandbox", allowed_uid=os.getuid() + 1) as device:
        adb("connect", device.serial)
        result = adb("-s", device.serial, "shell", "touch /data/local/tmp/ran", timeout_s=30)
        assert result.returncode != 0
        assert not (device.sandbox / "ran").exists()
        assert device.refused_peers >= 1 and device.connection_count == 0


def test_adb_shell_sees_no_host_environment(adb, tmp_path, monkeypatch):
    monkeypatch.setenv("SPLITBENCH_TEST_TOKEN", "do-not-leak")
    with LoopbackDevice(tmp_path / "sandbox") as device:
        adb("connect", device.serial)
        wait_until_device(adb, device.serial)
        output = adb("-s", device.serial, "shell", "env").stdout.decode()
    assert "SPLITBENCH_TEST_TOKEN" not in output
    assert f"HOME={device.sandbox}\n" in output
