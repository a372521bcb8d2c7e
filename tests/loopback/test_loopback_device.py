"""The loopback device at the wire level, its path mapping, its shims and its command line."""

import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback_raw_host import RawHost
from polling import wait_for

from loopback import LoopbackDevice, wire
from loopback.errors import LoopbackDeviceError
from loopback.shell_service import exit_status_byte
from loopback.storage import DeviceStorage

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def host(device):
    raw = RawHost(device.port)
    yield raw
    raw.close()


def test_handshake_answers_with_a_checksummed_cnxn_and_the_banner(host):
    reply = host.read()  # read_message verified the magic and the byte-sum checksum
    assert reply.command == wire.CNXN
    assert reply.arg0 == wire.VERSION_CHECKSUMMED and reply.arg1 == wire.MAX_PAYLOAD_BYTES
    banner = reply.payload.decode()
    assert banner.startswith("device::ro.product.name=splitbench_loopback;ro.product.model=splitbench loopback;")
    assert banner.endswith(";features=shell_v2,cmd")


def test_newer_host_version_is_met_at_the_skip_checksum_version(device):
    raw = RawHost(device.port, version=0x01000002)
    try:
        assert raw.read().arg0 == wire.VERSION_SKIP_CHECKSUM
    finally:
        raw.close()


def test_unknown_service_is_refused_with_clse(host):
    host.read()
    refusal = host.open(7, "reboot:bootloader")
    assert (refusal.command, refusal.arg0, refusal.arg1) == (wire.CLSE, 0, 7)


def test_shell_v1_merges_output_and_closes(host):
    host.read()
    okay = host.open(3, "shell:echo out; echo err >&2")
    assert (okay.command, okay.arg1) == (wire.OKAY, 3)
    assert host.read_stream(3, okay.arg0) == b"out\nerr\n"


def test_shell_v2_frames_stdout_stderr_and_exit(host):
    host.read()
    okay = host.open(4, "shell,v2,raw:printf out; printf err >&2; exit 5")
    data = host.read_stream(4, okay.arg0)
    packets = []
    while data:
        packet_id, length = struct.unpack_from("<BI", data)
        packets.append((packet_id, data[5:5 + length]))
        data = data[5 + length:]
    assert sorted(packets) == [(1, b"out"), (2, b"err"), (3, bytes([5]))]
    assert packets[-1][0] == 3


def test_host_clse_is_echoed_and_ends_the_command(host, device):
    host.read()
    okay = host.open(5, "shell:sleep 29.7")
    host.send(wire.Message(wire.CLSE, 5, okay.arg0))
    echo = host.read()
    assert (echo.command, echo.arg0, echo.arg1) == (wire.CLSE, okay.arg0, 5)
    wait_for(lambda: subprocess.run(["pgrep", "-f", "^sleep 29.7$"], capture_output=True).returncode != 0,
             "the end of the command with its stream", 5, 0.05)


def test_exit_status_byte_marks_signals_with_0x80():
    assert exit_status_byte(3) == 3
    assert exit_status_byte(-signal.SIGKILL) == 0x80 | signal.SIGKILL
    assert exit_status_byte(300) == 300 & 0xFF


def test_device_paths_map_into_the_sandbox_without_escaping(tmp_path):
    storage = DeviceStorage(tmp_path, quota_bytes=None)
    assert storage.resolve("/data/local/tmp/a/b.pte").host_path == tmp_path / "a" / "b.pte"
    assert storage.resolve("/data/local/tmp").writable
    escaped = storage.resolve("/data/local/tmp/../../../etc/passwd")
    assert escaped.host_path == Path("/etc/passwd") and not escaped.writable
    assert not storage.resolve("/data/local/tmpfoo").writable


def test_commands_are_rewritten_only_at_whole_path_components(tmp_path):
    storage = DeviceStorage(tmp_path, quota_bytes=None)
    assert storage.rewrite_command("ls /data/local/tmp/x '/data/local/tmp'") == f"ls {tmp_path}/x '{tmp_path}'"
    assert storage.rewrite_command("ls /data/local/tmpfoo") == "ls /data/local/tmpfoo"


def test_sandbox_path_a_shell_would_split_is_refused(tmp_path):
    with pytest.raises(LoopbackDeviceError, match="no spaces"):
        LoopbackDevice(tmp_path / "with space").start()


def test_port_in_use_is_a_clear_error(device, tmp_path):
    with pytest.raises(LoopbackDeviceError, match="pick another port"):
        LoopbackDevice(tmp_path / "other", port=device.port).start()


def test_auth_without_any_acceptable_key_is_a_configuration_error(tmp_path):
    with pytest.raises(LoopbackDeviceError, match="adb_keys_path"):
        LoopbackDevice(tmp_path / "sandbox", auth_required=True).start()
    with pytest.raises(LoopbackDeviceError, match="does not exist"):
        LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=tmp_path / "missing").start()


def test_malformed_accepted_keys_file_names_the_line(tmp_path):
    keys = tmp_path / "adb_keys"
    keys.write_text("# comment\nnot-a-key user@host\n")
    with pytest.raises(LoopbackDeviceError, match="adb_keys:2"):
        LoopbackDevice(tmp_path / "sandbox", auth_required=True, adb_keys_path=keys).start()


def test_stop_ends_running_commands_and_closes_the_port(tmp_path):
    device = LoopbackDevice(tmp_path / "sandbox").start()
    raw = RawHost(device.port)
    raw.read()
    raw.open(9, "shell:sleep 31.3")
    time.sleep(0.3)
    device.stop()
    raw.close()
    wait_for(lambda: subprocess.run(["pgrep", "-f", "^sleep 31.3$"], capture_output=True).returncode != 0,
             "the end of every command with the device", 5, 0.05)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", device.port), timeout=1).close()


def test_cli_serves_until_terminated(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "loopback", "--port", str(port), "--sandbox", str(tmp_path / "sandbox")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert f"127.0.0.1:{port}" in first_line
        raw = RawHost(port)
        assert raw.read().command == wire.CNXN
        raw.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cli_bad_sandbox_is_one_error_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "loopback", "--port", "0", "--sandbox", str(tmp_path / "a b")],
        cwd=REPO, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: sandbox path")


def test_sync_list_shows_pushed_files_with_their_sizes(device):
    from adb_shell.adb_device import AdbDeviceTcp

    (device.sandbox / "model.pte").write_bytes(b"x" * 1234)
    client = AdbDeviceTcp("127.0.0.1", device.port, default_transport_timeout_s=5)
    client.connect()
    try:
        entries = {bytes(entry.filename): entry.size for entry in client.list("/data/local/tmp")}
    finally:
        client.close()
    assert entries[b"model.pte"] == 1234
    assert b"." in entries and b".." in entries


def test_negative_fault_settings_are_refused():
    from loopback import FaultPlan

    with pytest.raises(LoopbackDeviceError, match="drop_after_bytes"):
        FaultPlan(drop_after_bytes=-1)


def test_getprop_shim_answers_known_unknown_and_default(tmp_path):
    from loopback.shims import getprop_script

    script = tmp_path / "getprop"
    script.write_text(getprop_script({"ro.product.model": "it's a 'model'", "ro.build.version.sdk": "0"}))

    def getprop(*args):
        return subprocess.run(["sh", str(script), *args], capture_output=True, text=True, check=True).stdout

    assert getprop("ro.product.model") == "it's a 'model'\n"
    assert getprop("ro.unknown") == "\n"
    assert getprop("ro.unknown", "fallback") == "fallback\n"
    assert getprop() == "[ro.build.version.sdk]: [0]\n[ro.product.model]: [it's a 'model']\n"
