"""The loopback device against Debian's real `adb` client and server (apt-get install adb).

Each test runs a private adb server (its own port and HOME) and stops it afterwards.
"""

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.adb.keys import ensure_key_pair
from loopback import LoopbackDevice
from scripts.adb_server import private_adb_server

pytestmark = pytest.mark.slow  # exports programs or drives a real adb server

ADB_MISSING = "Debian's adb client is needed for these tests: run `sudo apt-get install -y adb` (CI does)"


class AdbClient:
    def __init__(self, executable: str, env: dict[str, str]):
        self.executable = executable
        self.env = env

    def run(self, *args, input_bytes=None, timeout_s=30) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.executable, *args],
            env=self.env,
            input=input_bytes,
            stdin=None if input_bytes is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
        )

    def wait_for_state(self, serial: str, state: str, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        listing = ""
        while time.monotonic() < deadline:
            listing = self.run("devices").stdout.decode()
            if f"{serial}\t{state}" in listing:
                return
            time.sleep(0.1)
        raise AssertionError(f"{serial} never became {state!r}; adb devices said:\n{listing}")


@pytest.fixture
def adb_home(tmp_path):
    """HOME of the private adb server, holding a key pair made by bench.adb.keys (adb loads it at start-up)."""
    home = tmp_path / "home"
    ensure_key_pair(home / ".android" / "adbkey")
    return home


@pytest.fixture
def adb(adb_home):
    executable = shutil.which("adb") or ("/usr/bin/adb" if Path("/usr/bin/adb").exists() else None)
    if executable is None:
        pytest.fail(ADB_MISSING)
    with private_adb_server(executable, adb_home) as env:
        yield AdbClient(executable, env)


def connect_adb(adb: AdbClient, device: LoopbackDevice) -> str:
    result = adb.run("connect", device.serial)
    assert result.returncode == 0, result.stderr
    adb.wait_for_state(device.serial, "device")
    return device.serial


def test_shell_v2_returns_the_exit_code_and_separate_streams(adb, device):
    serial = connect_adb(adb, device)
    result = adb.run("-s", serial, "shell", "echo hi; echo oops >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, b"hi\n", b"oops\n")


def test_shell_v2_reports_a_killed_process_as_128_plus_signal(adb, device):
    serial = connect_adb(adb, device)
    assert adb.run("-s", serial, "shell", "kill -9 $$").returncode == 128 + 9


def test_shell_v2_forwards_stdin(adb, device):
    serial = connect_adb(adb, device)
    result = adb.run("-s", serial, "shell", "wc -c", input_bytes=b"twelve bytes")
    assert result.stdout.strip() == b"12"


def test_push_pull_and_ls_round_trip(adb, device, tmp_path):
    serial = connect_adb(adb, device)
    original = tmp_path / "weights.bin"
    original.write_bytes(os.urandom(5 * 1024 * 1024))
    pushed = adb.run("-s", serial, "push", str(original), "/data/local/tmp/weights.bin")
    assert pushed.returncode == 0, pushed.stderr
    pulled_path = tmp_path / "pulled.bin"
    pulled = adb.run("-s", serial, "pull", "/data/local/tmp/weights.bin", str(pulled_path))
    assert pulled.returncode == 0, pulled.stderr
    assert hashlib.sha256(pulled_path.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()
    assert adb.run("-s", serial, "shell", "ls", "/data/local/tmp").stdout == b"weights.bin\n"


def test_pull_of_a_missing_file_fails(adb, device, tmp_path):
    serial = connect_adb(adb, device)
    result = adb.run("-s", serial, "pull", "/data/local/tmp/absent.bin", str(tmp_path / "absent.bin"))
    assert result.returncode != 0
    assert b"remote object '/data/local/tmp/absent.bin' does not exist" in result.stdout + result.stderr
    assert not (tmp_path / "absent.bin").exists()


def test_auth_by_signature_with_the_key_in_adb_home(adb, adb_home, tmp_path):
    key = adb_home / ".android" / "adbkey"
    accepted = tmp_path / "adb_keys"
    accepted.write_text(key.with_suffix(".pub").read_text() + "\n")
    with LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=accepted) as device:
        assert b"connected to" in adb.run("connect", device.serial).stdout
        adb.wait_for_state(device.serial, "device")
        assert adb.run("-s", device.serial, "shell", "echo signed").stdout == b"signed\n"


def test_auth_new_key_offered_by_adb_is_accepted(adb, tmp_path):
    accepted = tmp_path / "adb_keys"
    with LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=accepted, accept_new_keys=True) as device:
        adb.run("connect", device.serial)
        adb.wait_for_state(device.serial, "device")
        assert adb.run("-s", device.serial, "shell", "echo accepted").stdout == b"accepted\n"
    assert len(accepted.read_text().splitlines()) == 1


def test_many_commands_run_at_once_over_one_connection(adb, device):
    serial = connect_adb(adb, device)
    started = time.monotonic()
    shells = [
        subprocess.Popen([adb.executable, "-s", serial, "shell", f"sleep 1; echo {index}"], env=adb.env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for index in range(4)
    ]
    outputs = [shell.communicate(timeout=20)[0] for shell in shells]
    assert outputs == [f"{index}\n".encode() for index in range(4)]
    assert time.monotonic() - started < 3.5  # four 1-second commands overlapped
    assert device.connection_count == 1


def test_push_past_the_quota_reports_no_space(adb, tmp_path):
    payload = tmp_path / "big.bin"
    payload.write_bytes(os.urandom(300_000))
    with LoopbackDevice(tmp_path / "sandbox", storage_quota_bytes=100_000) as device:
        serial = connect_adb(adb, device)
        result = adb.run("-s", serial, "push", str(payload), "/data/local/tmp/big.bin")
        assert result.returncode != 0
        assert b"No space left on device" in result.stdout + result.stderr
        assert adb.run("-s", serial, "shell", "echo", "alive").stdout == b"alive\n"


def test_push_outside_data_local_tmp_is_permission_denied(adb, device, tmp_path):
    serial = connect_adb(adb, device)
    payload = tmp_path / "f.txt"
    payload.write_text("x")
    result = adb.run("-s", serial, "push", str(payload), "/system/f.txt")
    assert result.returncode != 0
    assert b"Permission denied" in result.stdout + result.stderr
