"""Who the loopback device serves: the run's own key, the owner's uid, loopback addresses only without auth,
a cap on connections and an idle timeout."""

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from loopback_raw_host import RawHost

from bench.adb.connection import connect
from bench.adb.keys import ensure_key_pair
from bench.adb.target import device_connector, loopback_device_for_run
from bench.errors import AuthenticationFailed
from loopback import LoopbackDevice, wire
from loopback.errors import LoopbackDeviceError
from loopback.peer_uid import peer_uid

REPO = Path(__file__).resolve().parents[2]


def test_the_run_device_answers_an_unauthenticated_host_with_auth_not_cnxn():
    with device_connector("loopback") as connect_to_device:
        connection = connect_to_device()
        try:
            assert connection.shell_text("echo run-key").output.strip() == "run-key"
            port = connection.serial.port
            raw = RawHost(port)
            try:
                first = raw.read()
                assert first.command == wire.AUTH and first.arg0 == wire.AUTH_TOKEN
                raw.send(wire.Message(wire.AUTH, wire.AUTH_SIGNATURE, 0, b"\0" * 256))
                second = raw.read()
                assert second.command == wire.AUTH  # a new token, never CNXN
                raw.send(wire.Message(wire.AUTH, wire.AUTH_RSA_PUBLIC_KEY, 0, b"AAAA user@host\0"))
                with pytest.raises(wire.PeerClosed):
                    raw.read()
            finally:
                raw.close()
        finally:
            connection.close()


def test_the_run_device_refuses_another_key_and_accepts_the_run_key(tmp_path):
    other_key = ensure_key_pair(tmp_path / "other" / "adbkey")
    with loopback_device_for_run() as (device, run_key):
        assert stat.S_IMODE(run_key.stat().st_mode) == 0o600
        assert stat.S_IMODE(run_key.parent.stat().st_mode) == 0o700
        with pytest.raises(AuthenticationFailed, match="did not accept this computer's key"):
            connect(device.serial, key_path=other_key)
        with connect(device.serial, key_path=run_key) as connection:
            assert connection.shell_text("echo mine").output.strip() == "mine"
    assert not run_key.exists()


def test_peer_uid_is_the_uid_of_the_connecting_socket():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = listener.accept()
            with accepted:
                assert peer_uid(accepted) == os.getuid()


def test_a_peer_of_another_uid_is_closed_before_the_handshake(tmp_path):
    with LoopbackDevice(tmp_path / "sandbox", allowed_uid=os.getuid() + 1) as device:
        raw = RawHost(device.port)
        try:
            try:
                raw.send(wire.Message(wire.OPEN, 1, 0, b"shell:touch /data/local/tmp/ran\0"))
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed already
            with pytest.raises((wire.PeerClosed, ConnectionResetError)):
                raw.read()
        finally:
            raw.close()
        assert device.refused_peers == 1
        assert not (device.sandbox / "ran").exists()


def test_listening_beyond_loopback_without_auth_is_refused(tmp_path):
    with pytest.raises(LoopbackDeviceError, match=r"beyond 127\.0\.0\.0/8.*--auth --adb-keys"):
        LoopbackDevice(tmp_path / "sandbox", host="0.0.0.0").start()
    keys = tmp_path / "adb_keys"
    keys.write_text("")
    with pytest.raises(LoopbackDeviceError, match="without --accept-new-keys"):
        LoopbackDevice(tmp_path / "sandbox", host="0.0.0.0", auth_required=True, adb_keys_path=keys,
                       accept_new_keys=True).start()
    with LoopbackDevice(tmp_path / "sandbox", host="127.0.0.2") as device:  # all of 127.0.0.0/8 is loopback
        assert device.serial.startswith("127.0.0.2:")


def test_cli_host_beyond_loopback_without_auth_is_one_error_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "loopback", "--host", "0.0.0.0", "--port", "0", "--sandbox", str(tmp_path / "s")],
        cwd=REPO, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--auth" in result.stderr and result.stderr.startswith("error: listening")


def test_auth_with_a_key_list_may_listen_on_every_address(tmp_path):
    key = ensure_key_pair(tmp_path / "adbkey")
    with LoopbackDevice(tmp_path / "sandbox", host="0.0.0.0", auth_required=True,
                        adb_keys_path=Path(f"{key}.pub")) as device:
        raw = RawHost(device.port)
        try:
            assert raw.read().command == wire.AUTH
        finally:
            raw.close()


def test_a_connection_over_the_cap_is_closed_at_once(tmp_path):
    with LoopbackDevice(tmp_path / "sandbox", max_connections=2) as device:
        hosts = [RawHost(device.port) for _ in range(2)]
        try:
            assert [host.read().command for host in hosts] == [wire.CNXN, wire.CNXN]
            extra = RawHost(device.port)
            with pytest.raises((wire.PeerClosed, ConnectionResetError)):
                extra.read()
            extra.close()
            assert device.connection_count == 2 and device.refused_peers == 1
        finally:
            for host in hosts:
                host.close()


@pytest.mark.slow
def test_an_idle_connection_is_closed_but_a_long_command_is_not_cut(tmp_path):
    with LoopbackDevice(tmp_path / "sandbox", idle_timeout_s=0.5) as device:
        busy = RawHost(device.port)
        idle = RawHost(device.port)
        try:
            assert busy.read().command == wire.CNXN and idle.read().command == wire.CNXN
            okay = busy.open(1, "shell:sleep 1.5; echo done")
            assert busy.read_stream(1, okay.arg0) == b"done\n"  # 3 idle timeouts long, with the host silent
            with pytest.raises(wire.PeerClosed):
                idle.read()
        finally:
            busy.close()
            idle.close()


def test_bad_cap_and_timeout_settings_are_refused(tmp_path):
    with pytest.raises(LoopbackDeviceError, match="1 or more"):
        LoopbackDevice(tmp_path / "sandbox", max_connections=0).start()
    with pytest.raises(LoopbackDeviceError, match="more than 0 s"):
        LoopbackDevice(tmp_path / "sandbox", idle_timeout_s=0).start()
