"""With Debian's adb client (apt-get install adb): a command whose adb client goes away dies on the loopback
device with everything it started, including the process group `timeout` makes for itself."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from polling import wait_for

from bench.adb.keys import ensure_key_pair
from loopback import LoopbackDevice
from scripts.adb_server import private_adb_server

pytestmark = pytest.mark.slow  # drives a real adb server


def processes_with(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            if state != "Z" and text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


WAIT_S = 30


def test_a_dropped_adb_client_ends_the_command_and_its_timeout_group(tmp_path):
    executable = shutil.which("adb") or ("/usr/bin/adb" if Path("/usr/bin/adb").exists() else None)
    if executable is None:
        pytest.fail("Debian's adb client is needed: run `sudo apt-get install -y adb`")
    home = tmp_path / "home"
    ensure_key_pair(home / ".android" / "adbkey")
    with LoopbackDevice(tmp_path / "sandbox") as device, private_adb_server(executable, home) as env:
        assert subprocess.run([executable, "connect", device.serial], env=env, capture_output=True,
                              timeout=30).returncode == 0
        wait_for(lambda: f"{device.serial}\tdevice" in subprocess.run(
            [executable, "devices"], env=env, capture_output=True, text=True, timeout=30).stdout, "adb connect", WAIT_S)
        client = subprocess.Popen([executable, "-s", device.serial, "shell", "timeout 300 sleep 301; echo done"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = wait_for(lambda: [pid for pid in processes_with("sleep 301")
                                        if _cmdline(pid).startswith(("sleep 301", "timeout 300"))]
                               if len(processes_with("sleep 301")) >= 3 else [], "the command's start", WAIT_S)
            assert any(_cmdline(pid).startswith("timeout 300") for pid in started)
            assert any(os.getpgid(pid) != os.getsid(pid) for pid in started)  # timeout's own process group
            client.kill()  # the adb client goes away: the server closes the stream to the device
            client.wait(timeout=30)
            wait_for(lambda: not any(pid in processes_with("sleep 301") for pid in started),
                     "the end of the command's timeout and sleep (in timeout's own process group)", WAIT_S)
        finally:
            for pid in processes_with("sleep 301"):
                subprocess.run(["kill", "-9", str(pid)])
