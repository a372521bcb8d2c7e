"""The loopback device's sandbox through adb-shell: sync paths stay inside it (or in the readable system
facts), pushes make no symlinks and no setuid files, NUL bytes get an answer, commands get a minimal
environment."""

import os
import stat
import struct

import pytest
from adb_shell import exceptions as adb_errors
from adb_shell.adb_device import AdbDeviceTcp
from loopback_raw_host import RawHost

from loopback import LoopbackDevice, wire

TIMEOUT_S = 10


@pytest.fixture
def client(device):
    adb = AdbDeviceTcp("127.0.0.1", device.port, default_transport_timeout_s=TIMEOUT_S)
    adb.connect(read_timeout_s=TIMEOUT_S)
    yield adb
    adb.close()


def pull_fails(client, device_path, tmp_path, reason="Permission denied"):
    with pytest.raises(adb_errors.AdbCommandFailureException, match=reason):
        client.pull(device_path, str(tmp_path / "pulled"), read_timeout_s=TIMEOUT_S)


@pytest.mark.slow
def test_pull_of_host_files_outside_the_sandbox_is_refused(client, tmp_path, outside):
    pull_fails(client, str(outside / "secret.txt"), tmp_path)
    pull_fails(client, "/data/local/tmp/../../.." + str(outside / "secret.txt"), tmp_path)
    pull_fails(client, "/etc/passwd", tmp_path)
    pull_fails(client, "/proc/self/environ", tmp_path)
    assert not (tmp_path / "pulled").exists() or (tmp_path / "pulled").read_bytes() == b""


@pytest.mark.slow
def test_stat_and_list_outside_the_sandbox_see_nothing(client, outside):
    assert client.stat(str(outside / "secret.txt"), read_timeout_s=TIMEOUT_S) == (0, 0, 0)
    assert client.stat("/etc", read_timeout_s=TIMEOUT_S) == (0, 0, 0)
    assert client.list(str(outside), read_timeout_s=TIMEOUT_S) == []
    assert client.list("/", read_timeout_s=TIMEOUT_S) == []
    assert client.list("/data/local/tmp/../../../" + str(outside), read_timeout_s=TIMEOUT_S) == []


def test_cpu_and_thermal_facts_stay_readable(client, tmp_path):
    client.pull("/proc/cpuinfo", str(tmp_path / "cpuinfo"), read_timeout_s=TIMEOUT_S)
    assert b"processor" in (tmp_path / "cpuinfo").read_bytes()
    mode, _size, _mtime = client.stat("/sys/devices/system/cpu", read_timeout_s=TIMEOUT_S)
    assert stat.S_ISDIR(mode)
    names = {bytes(entry.filename) for entry in client.list("/sys/devices/system/cpu", read_timeout_s=TIMEOUT_S)}
    assert b"cpu0" in names and b"online" in names


def test_a_symlink_in_the_sandbox_does_not_lead_out(client, device, tmp_path, outside):
    client.shell(f"ln -s {outside} /data/local/tmp/out", read_timeout_s=TIMEOUT_S)
    assert (device.sandbox / "out").is_symlink()
    pull_fails(client, "/data/local/tmp/out/secret.txt", tmp_path)
    assert client.stat("/data/local/tmp/out/secret.txt", read_timeout_s=TIMEOUT_S) == (0, 0, 0)
    payload = tmp_path / "payload.txt"
    payload.write_text("pushed\n")
    with pytest.raises(adb_errors.PushFailedError, match="Permission denied"):
        client.push(str(payload), "/data/local/tmp/out/planted.txt", read_timeout_s=TIMEOUT_S)
    assert not (outside / "planted.txt").exists()


def test_a_link_inside_the_sandbox_still_works(client, device, tmp_path):
    (device.sandbox / "models").mkdir()
    (device.sandbox / "models" / "a.pte").write_bytes(b"abc")
    client.shell("ln -s /data/local/tmp/models /data/local/tmp/current", read_timeout_s=TIMEOUT_S)
    client.pull("/data/local/tmp/current/a.pte", str(tmp_path / "a.pte"), read_timeout_s=TIMEOUT_S)
    assert (tmp_path / "a.pte").read_bytes() == b"abc"


def test_send_refuses_to_make_a_symlink(client, device, tmp_path, outside):
    target = tmp_path / "target.txt"
    target.write_text(str(outside))
    with pytest.raises(adb_errors.PushFailedError, match="does not create symlinks"):
        client.push(str(target), "/data/local/tmp/link", st_mode=stat.S_IFLNK | 0o777, read_timeout_s=TIMEOUT_S)
    assert not os.path.lexists(device.sandbox / "link")


def test_send_drops_setuid_setgid_and_sticky_bits(client, device, tmp_path):
    program = tmp_path / "program"
    program.write_bytes(b"#!/bin/sh\necho hi\n")
    client.push(str(program), "/data/local/tmp/program", st_mode=stat.S_IFREG | 0o7755, read_timeout_s=TIMEOUT_S)
    assert stat.S_IMODE((device.sandbox / "program").stat().st_mode) == 0o755


def sync_request(host: RawHost, remote_id: int, request: bytes) -> bytes:
    """Send one sync request on stream 1 and return the device's first answer chunk."""
    host.send(wire.Message(wire.WRTE, 1, remote_id, request))
    while True:
        message = host.read()
        if message.command == wire.WRTE:
            host.send(wire.Message(wire.OKAY, 1, remote_id))
            return message.payload
        assert message.command == wire.OKAY, f"the device closed the stream instead of answering: {message.name}"


@pytest.mark.parametrize("request_id", [b"RECV", b"SEND"])
def test_a_nul_byte_in_a_sync_path_is_answered_with_fail(device, request_id):
    host = RawHost(device.port)
    try:
        host.read()
        okay = host.open(1, "sync:")
        path = b"/data/local/tmp/a\0b" + (b",33188" if request_id == b"SEND" else b"")
        request = struct.pack("<4sI", request_id, len(path)) + path
        if request_id == b"SEND":
            request += struct.pack("<4sI", b"DONE", 0)
        answer = sync_request(host, okay.arg0, request)
        assert answer[:4] == b"FAIL" and b"NUL" in answer[8:]
    finally:
        host.close()


@pytest.mark.parametrize(("request_id", "empty_answer"), [
    (b"STAT", struct.pack("<4sIII", b"STAT", 0, 0, 0)),
    (b"LIST", struct.pack("<4sIIII", b"DONE", 0, 0, 0, 0)),
])
def test_a_nul_byte_in_a_stat_or_list_path_is_answered_with_nothing_found(device, request_id, empty_answer):
    (device.sandbox / "a").mkdir()
    host = RawHost(device.port)
    try:
        host.read()
        okay = host.open(1, "sync:")
        path = b"/data/local/tmp/a\0b"
        answer = sync_request(host, okay.arg0, struct.pack("<4sI", request_id, len(path)) + path)
        assert answer == empty_answer
    finally:
        host.close()


def test_commands_get_a_minimal_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPLITBENCH_TEST_TOKEN", "do-not-leak")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/host/only/lib")
    with LoopbackDevice(tmp_path / "sandbox") as device:
        adb = AdbDeviceTcp("127.0.0.1", device.port, default_transport_timeout_s=TIMEOUT_S)
        adb.connect(read_timeout_s=TIMEOUT_S)
        try:
            output = adb.shell("env", read_timeout_s=TIMEOUT_S)
        finally:
            adb.close()
    env = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "PWD", "OLDPWD", "SHLVL", "_"}
    assert env["HOME"] == env["TMPDIR"] == str(device.sandbox)
    assert env["PATH"].split(":")[1:] == ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"]
    assert "do-not-leak" not in output and "/host/only/lib" not in output
