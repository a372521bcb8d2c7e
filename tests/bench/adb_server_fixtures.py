"""A private Debian adb server (its own port and HOME, always stopped) and loopback devices attached to it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.adb.keys import ensure_key_pair
from bench.adb.transport.host_protocol import ServerAddress
from loopback import LoopbackDevice
from scripts.adb_server import private_adb_server

ADB_MISSING = "Debian's adb is needed for these tests: run `sudo apt-get install -y adb` (CI does)"


def adb_executable() -> str:
    executable = shutil.which("adb") or ("/usr/bin/adb" if Path("/usr/bin/adb").exists() else None)
    if executable is None:
        pytest.fail(ADB_MISSING)
    return executable


@dataclass
class PrivateServer:
    executable: str
    env: dict[str, str]
    home: Path

    @property
    def port(self) -> int:
        return int(self.env["ANDROID_ADB_SERVER_PORT"])

    @property
    def address(self) -> ServerAddress:
        return ServerAddress("127.0.0.1", self.port)

    @property
    def text(self) -> str:
        return f"127.0.0.1:{self.port}"

    def adb(self, *args: str, timeout_s: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([self.executable, *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout_s)

    def wait_for_state(self, serial: str, state: str, timeout_s: float = 15) -> None:
        deadline = time.monotonic() + timeout_s
        listing = ""
        while time.monotonic() < deadline:
            listing = self.adb("devices").stdout
            if f"{serial}\t{state}" in listing:
                return
            time.sleep(0.1)
        raise AssertionError(f"{serial} never became {state!r}; adb devices said:\n{listing}")

    def attach(self, device: LoopbackDevice, state: str = "device") -> str:
        result = self.adb("connect", device.serial)
        assert result.returncode == 0, result.stderr
        self.wait_for_state(device.serial, state)
        return device.serial


def private_server(tmp_path: Path) -> Iterator[PrivateServer]:
    """For a fixture: `yield from private_server(tmp_path)`."""
    home = tmp_path / "adb-home"
    ensure_key_pair(home / ".android" / "adbkey")
    executable = adb_executable()
    with private_adb_server(executable, home) as env:
        yield PrivateServer(executable, env, home)
