"""DeviceConnection (adb-shell) against the loopback device: exit codes, quoting, files, faults, auth."""

import hashlib
import os
import socket
import threading
import time

import pytest

from bench.adb.connection import DeviceStat, connect
from bench.adb.keys import ensure_key_pair
from bench.adb.serials import InvalidSerial
from bench.adb.transport import direct as direct_transport
from bench.errors import (
    AuthenticationFailed,
    CommandTimedOut,
    DeviceCommandFailed,
    DeviceLost,
    DeviceUnreachable,
    InsufficientStorage,
    TransferFailed,
)
from loopback import FaultPlan, LoopbackDevice

AWKWARD_NAME = "model 'v1' \"final\" $HOME;`x`.pte"


@pytest.fixture
def key_path(tmp_path):
    return ensure_key_pair(tmp_path / "host" / "adbkey")


@pytest.fixture
def connection(device, key_path):
    with connect(device.serial, key_path=key_path, timeout_s=5) as opened:
        yield opened


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- shell ---------------------------------------------------------------------------------------
def test_exit_code_and_output_come_back(connection):
    result = connection.shell(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert result.exit_code == 3
    assert result.output == "out\nerr\n"


def test_composed_command_that_exits_still_reports_its_code(connection):
    result = connection.shell_text("echo hi; exit 4")
    assert (result.exit_code, result.output) == (4, "hi\n")


def test_output_without_final_newline_is_kept_exact(connection):
    assert connection.shell(["printf", "a\nb"]).output == "a\nb"


def test_each_argument_reaches_the_device_as_one_word(connection):
    result = connection.shell(["printf", "[%s]", "a b", "it's", "$HOME", "`id`", "x;y"])
    assert result.output == "[a b][it's][$HOME][`id`][x;y]"


def test_check_raises_with_code_and_output(connection):
    with pytest.raises(DeviceCommandFailed, match="exit code 2") as caught:
        connection.check(["sh", "-c", "echo broken; exit 2"])
    assert (caught.value.exit_code, caught.value.output) == (2, "broken\n")


def test_commands_run_in_the_sandbox_that_stands_for_data_local_tmp(connection, device):
    (device.sandbox / "here.txt").write_text("x")
    assert connection.check_text("cd /data/local/tmp && ls").output == "here.txt\n"


def test_getprop_reports_the_loopback_model_and_host_abi(connection):
    assert connection.check(["getprop", "ro.product.model"]).output == "splitbench loopback\n"
    abi = connection.check(["getprop", "ro.product.cpu.abi"]).output.strip()
    assert abi == {"x86_64": "x86_64", "aarch64": "arm64-v8a"}.get(os.uname().machine, os.uname().machine)
    listing = connection.check(["getprop"]).output
    assert "[ro.product.model]: [splitbench loopback]" in listing.splitlines()


@pytest.mark.slow
def test_long_silent_command_succeeds_when_its_timeout_is_larger(connection):
    started = time.monotonic()
    result = connection.shell(["sleep", "12"], timeout_s=20)
    assert result.exit_code == 0
    assert time.monotonic() - started >= 12


@pytest.mark.slow
def test_timed_out_command_raises_and_the_connection_stays_usable(connection):
    with pytest.raises(CommandTimedOut, match="gave no answer to `sleep 30` within 1 s"):
        connection.shell(["sleep", "30"], timeout_s=1)
    assert connection.shell(["echo", "still here"]).output == "still here\n"


# -- files ---------------------------------------------------------------------------------------
def test_push_pull_round_trip_of_5_mb_keeps_every_byte(connection, device, tmp_path):
    original = tmp_path / "payload.bin"
    original.write_bytes(os.urandom(5 * 1024 * 1024))
    device_path = f"/data/local/tmp/dir with space/{AWKWARD_NAME}"
    progress = []
    pushed = connection.push(original, device_path, mode=0o755, progress=lambda done, total: progress.append((done, total)))
    assert pushed.size_bytes == original.stat().st_size and pushed.permissions == 0o755
    assert progress[-1] == (original.stat().st_size, original.stat().st_size)
    assert sha256_of(device.sandbox / "dir with space" / AWKWARD_NAME) == sha256_of(original)
    pull_progress = []
    back = connection.pull(device_path, tmp_path / "back.bin", progress=lambda done, total: pull_progress.append((done, total)))
    assert pull_progress[-1] == (original.stat().st_size, original.stat().st_size)
    assert sha256_of(back) == sha256_of(original)
    listed = connection.check(["ls", "/data/local/tmp/dir with space"]).output
    assert listed == AWKWARD_NAME + "\n"


def test_pushed_script_runs_with_its_exit_code(connection, tmp_path):
    script = tmp_path / "runner.sh"
    script.write_text('#!/bin/sh\necho "args: $#"\nexit 42\n')
    connection.push(script, "/data/local/tmp/runner.sh", mode=0o755)
    result = connection.shell(["/data/local/tmp/runner.sh", "one arg", "two"])
    assert (result.exit_code, result.output) == (42, "args: 2\n")


def test_stat_of_a_missing_file_is_none(connection):
    assert connection.stat("/data/local/tmp/not-there") is None


def test_stat_of_a_folder(connection):
    found = connection.stat("/data/local/tmp")
    assert isinstance(found, DeviceStat) and found.is_dir


def test_pull_of_a_missing_file_fails_and_leaves_no_local_file(connection, tmp_path):
    out_dir = tmp_path / "pulled"
    with pytest.raises(TransferFailed, match="No such file"):
        connection.pull("/data/local/tmp/not-there", out_dir / "out.bin")
    assert list(out_dir.iterdir()) == []


def test_push_outside_the_sandbox_is_refused_like_on_a_phone(connection, tmp_path):
    local = tmp_path / "f.txt"
    local.write_text("x")
    with pytest.raises(TransferFailed, match="Permission denied"):
        connection.push(local, "/system/bin/f.txt")
    assert connection.shell(["echo", "ok"]).output == "ok\n"


def test_push_past_the_storage_quota_is_insufficient_storage(tmp_path, key_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(300_000))
    with LoopbackDevice(tmp_path / "sandbox", storage_quota_bytes=200_000) as device:
        with connect(device.serial, key_path=key_path) as connection:
            with pytest.raises(InsufficientStorage, match="No space left on device") as caught:
                connection.push(big, "/data/local/tmp/big.bin")
            assert isinstance(caught.value, TransferFailed)  # callers catching push failures see it too
            assert connection.stat("/data/local/tmp/big.bin") is None
            assert list(device.sandbox.iterdir()) == []  # no partial file left behind
            df_line = connection.check(["df", "/data/local/tmp"]).output.splitlines()[-1].split()
            assert (df_line[1], df_line[2], df_line[3]) == ("195", "0", "195")
            small = tmp_path / "small.bin"
            small.write_bytes(os.urandom(51_200))
            connection.push(small, "/data/local/tmp/small.bin")
            df_line = connection.check(["df", "/data/local/tmp"]).output.splitlines()[-1].split()
            assert (df_line[1], df_line[2], df_line[3]) == ("195", "50", "145")


# -- faults --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_dropped_connection_mid_command_is_device_lost(connection, device):
    threading.Timer(0.5, device.drop_connections).start()
    started = time.monotonic()
    with pytest.raises(DeviceLost, match="lost the connection"):
        connection.shell(["sleep", "10"], timeout_s=30)
    assert time.monotonic() - started < 5
    with pytest.raises(DeviceLost, match="reconnect"):
        connection.shell(["true"])
    connection.reconnect()
    assert connection.shell(["true"]).exit_code == 0


def test_connection_dropped_during_push_is_device_lost(tmp_path, key_path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(1024 * 1024))
    with LoopbackDevice(tmp_path / "sandbox", faults=FaultPlan(drop_after_bytes=256 * 1024)) as device:
        with connect(device.serial, key_path=key_path) as connection:
            with pytest.raises(DeviceLost):
                connection.push(payload, "/data/local/tmp/payload.bin")
            assert not any(device.sandbox.iterdir())


def test_connection_dropped_after_n_commands(tmp_path, key_path):
    with LoopbackDevice(tmp_path / "sandbox", faults=FaultPlan(drop_after_commands=2)) as device:
        with connect(device.serial, key_path=key_path) as connection:
            connection.shell(["true"])
            connection.shell(["true"])
            with pytest.raises(DeviceLost):
                connection.shell(["true"])


def test_unreachable_port_is_device_unreachable(key_path):
    with pytest.raises(DeviceUnreachable, match="adb tcpip 5555"):
        connect(f"127.0.0.1:{free_port()}", key_path=key_path, timeout_s=2)


@pytest.mark.slow
def test_vanished_device_is_unreachable_until_it_comes_back(device, key_path):
    device.refuse_connections(1.0)
    with pytest.raises(DeviceUnreachable, match="loopback device"):
        connect(device.serial, key_path=key_path, timeout_s=2)
    time.sleep(1.5)
    with connect(device.serial, key_path=key_path) as connection:
        assert connection.shell(["echo", "back"]).output == "back\n"


# -- authentication ------------------------------------------------------------------------------
def test_auth_with_a_key_the_device_already_trusts(tmp_path, key_path):
    accepted = tmp_path / "adb_keys"
    accepted.write_text(key_path.with_suffix(".pub").read_text() + "\n")
    with LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=accepted) as device:
        with connect(device.serial, key_path=key_path) as connection:
            assert connection.shell(["echo", "signed"]).output == "signed\n"


def test_auth_with_an_unknown_key_is_refused_with_what_to_do(tmp_path, key_path):
    stranger = ensure_key_pair(tmp_path / "stranger" / "adbkey")
    accepted = tmp_path / "adb_keys"
    accepted.write_text(stranger.with_suffix(".pub").read_text() + "\n")
    with LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=accepted) as device:
        with pytest.raises(AuthenticationFailed, match="accept the prompt on the phone"):
            connect(device.serial, key_path=key_path, timeout_s=3)


def test_auth_new_key_is_accepted_and_remembered(tmp_path, key_path):
    accepted = tmp_path / "adb_keys"
    with LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=accepted, accept_new_keys=True) as device:
        with connect(device.serial, key_path=key_path) as connection:
            assert connection.shell(["echo", "new key"]).output == "new key\n"
    assert accepted.read_text().split()[0] == key_path.with_suffix(".pub").read_text().split()[0]
    # Remembered: a device that accepts no new keys now lets this host in by signature.
    with LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=accepted) as device:
        with connect(device.serial, key_path=key_path) as connection:
            assert connection.shell(["true"]).exit_code == 0


# -- serials that cannot be opened here ------------------------------------------------------------
def test_usb_serial_without_usb_support_says_to_use_wifi_debugging(key_path, monkeypatch):
    monkeypatch.setattr(direct_transport, "_usb_available", lambda: False)
    with pytest.raises(DeviceUnreachable, match=r"adb tcpip 5555.*adb-shell\[usb\]"):
        connect("84B5T15A10010126", key_path=key_path)


def test_loopback_serial_needs_a_started_loopback_device(key_path):
    with pytest.raises(InvalidSerial, match="LoopbackDevice"):
        connect("loopback", key_path=key_path)
