"""Slow and greedy hosts cannot take the loopback device over: a message must arrive whole in time, a stream
buffers a bounded amount of unacknowledged data, a connection runs a bounded number of streams, a SEND with a
mode beyond 32 bits is answered FAIL, and any local user may connect only with a fixed key list."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from loopback_raw_host import RawHost
from polling import wait_for

from loopback import LoopbackDevice, wire
from loopback.errors import LoopbackDeviceError

REPO = Path(__file__).resolve().parents[2]


def sleeping_commands(tag: str) -> int:
    return len(subprocess.run(["pgrep", "-f", f"^sleep {tag}$"], capture_output=True, text=True).stdout.split())


def peer_closed(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


@pytest.mark.slow
def test_a_host_trickling_bytes_loses_its_slot(tmp_path):
    with LoopbackDevice(tmp_path / "sandbox", max_connections=2, message_deadline_s=0.6) as device:
        hello = wire.Message(wire.CNXN, wire.VERSION_CHECKSUMMED, wire.MAX_PAYLOAD_BYTES, b"host::\0").encode()
        tricklers = [socket.create_connection(("127.0.0.1", device.port)) for _ in range(2)]
        stop = threading.Event()

        def trickle(sock: socket.socket) -> None:
            for byte in hello:  # one byte every 0.15 s: never idle, never a whole message
                if stop.wait(0.15):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

        threads = [threading.Thread(target=trickle, args=(sock,), daemon=True) for sock in tricklers]
        for thread in threads:
            thread.start()
        try:
            assert all(peer_closed(sock, within_s=5) for sock in tricklers)
            wait_for(lambda: device.connection_count == 0, "the slots to free", 5, 0.05)
            host = RawHost(device.port)
            assert host.read().command == wire.CNXN  # a well-behaved host gets in again
            host.close()
        finally:
            stop.set()
            for sock in tricklers:
                sock.close()


@pytest.mark.slow
def test_opens_beyond_the_stream_cap_are_refused(tmp_path):
    tag = "29.31"
    with LoopbackDevice(tmp_path / "sandbox", max_streams_per_connection=4) as device:
        host = RawHost(device.port)
        assert host.read().command == wire.CNXN
        answers = [host.open(local_id, f"shell:sleep {tag}") for local_id in range(1, 11)]
        assert [answer.command for answer in answers] == [wire.OKAY] * 4 + [wire.CLSE] * 6
        assert all(answer.arg1 == local_id for local_id, answer in enumerate(answers, start=1))
        wait_for(lambda: sleeping_commands(tag) == 4, "the four commands", 5, 0.05)
        time.sleep(0.2)
        assert sleeping_commands(tag) == 4
        host.close()
    wait_for(lambda: sleeping_commands(tag) == 0, "the commands to end with the device", 10, 0.05)


def test_a_host_that_ignores_okay_has_its_stream_closed_and_the_command_ended(tmp_path):
    tag = "29.32"
    with LoopbackDevice(tmp_path / "sandbox") as device:
        host = RawHost(device.port)
        assert host.read().command == wire.CNXN
        okay = host.open(7, f"shell:sleep {tag}")
        assert okay.command == wire.OKAY
        payload = b"x" * wire.MAX_PAYLOAD_BYTES
        sent_mib = 0
        closed = False
        host.sock.settimeout(0.05)
        while sent_mib < 64 and not closed:  # flood without waiting for OKAY
            host.send(wire.Message(wire.WRTE, 7, okay.arg0, payload))
            sent_mib += 1
            try:
                while True:
                    message = host.read()
                    if message.command == wire.CLSE and message.arg1 == 7:
                        closed = True
                        break
            except TimeoutError:
                pass
        assert closed and sent_mib <= 8, sent_mib
        wait_for(lambda: sleeping_commands(tag) == 0, "the command to end with its stream", 10, 0.05)
        host.close()


def sync_request(request_id: bytes, data: bytes) -> bytes:
    return struct.pack("<4sI", request_id, len(data)) + data


def test_send_with_a_mode_beyond_32_bits_is_answered_fail(tmp_path):
    with LoopbackDevice(tmp_path / "sandbox") as device:
        host = RawHost(device.port)
        assert host.read().command == wire.CNXN
        for mode in ("4294967296", "99999999999999999999", "²", "-1"):
            okay = host.open(3, "sync:")
            assert okay.command == wire.OKAY
            body = (sync_request(b"SEND", f"/data/local/tmp/f,{mode}".encode()) + sync_request(b"DATA", b"abc")
                    + struct.pack("<4sI", b"DONE", 0))
            host.send(wire.Message(wire.WRTE, 3, okay.arg0, body))
            reply = bytearray()
            while len(reply) < 8:
                message = host.read()
                if message.command == wire.WRTE:
                    reply += message.payload
                    host.send(wire.Message(wire.OKAY, 3, okay.arg0))
                elif message.command == wire.CLSE:
                    break
            assert bytes(reply[:4]) == b"FAIL", (mode, bytes(reply))
            assert b"mode" in bytes(reply)
            host.send(wire.Message(wire.CLSE, 3, okay.arg0))
            while (message := host.read()).command != wire.CLSE:
                pass
        assert not (tmp_path / "sandbox" / "f").exists()
        host.close()


def test_any_local_user_needs_a_fixed_key_list(tmp_path):
    with pytest.raises(LoopbackDeviceError, match="--auth --adb-keys"):
        LoopbackDevice(tmp_path / "sandbox", allowed_uid=None).start()
    with pytest.raises(LoopbackDeviceError, match="--auth --adb-keys"):
        LoopbackDevice(tmp_path / "sandbox", allowed_uid=None, auth_required=True, accept_new_keys=True).start()


@pytest.mark.slow
def test_cli_refuses_any_local_user_without_auth_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "loopback", "--port", "0", "--sandbox", str(tmp_path / "sandbox"), "--any-local-user"],
        cwd=REPO, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--any-local-user" in result.stderr
