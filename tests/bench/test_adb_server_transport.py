"""The server transport against Debian's real adb server (a private one per test, on its own port), with loopback
devices attached to it by `adb connect`; and one clear line for each way the server path can fail."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from adb_server_fixtures import private_server

from bench.adb.connection import connect, resolve_transport
from bench.adb.device import Device
from bench.adb.serials import parse_serial
from bench.adb.transport.host_protocol import ServerAddress
from bench.errors import (
    AdbServerUnavailable,
    AuthenticationFailed,
    CommandTimedOut,
    DeviceUnreachable,
    TransferFailed,
)
from loopback import LoopbackDevice, wire
from scripts.adb_server import free_local_port

pytestmark = pytest.mark.slow  # drives a real adb server


@pytest.fixture
def adb_server(tmp_path):
    yield from private_server(tmp_path)


def test_shell_push_pull_and_stat_through_the_server(adb_server, device, tmp_path):
    serial = adb_server.attach(device)
    with connect(serial, transport="server", server=adb_server.address) as connection:
        assert isinstance(connection, Device)
        assert connection.transport.kind == "server" and connection.transport.server == adb_server.text
        assert connection.transport.server_version == 41  # Debian's adb 29.0.6
        result = connection.shell(["sh", "-c", "echo out; echo err >&2; exit 7"])
        assert (result.exit_code, result.output) == (7, "out\nerr\n")
        payload = os.urandom(700_000)
        (tmp_path / "w.bin").write_bytes(payload)
        progress = []
        pushed = connection.push(tmp_path / "w.bin", "/data/local/tmp/w.bin", mode=0o755,
                                 progress=lambda done, total: progress.append((done, total)))
        assert pushed.size_bytes == len(payload) and pushed.permissions == 0o755 and pushed.is_file
        assert progress[-1] == (len(payload), len(payload))
        connection.pull("/data/local/tmp/w.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == payload
        assert connection.stat("/data/local/tmp/absent") is None
        with pytest.raises(TransferFailed, match="No such file"):
            connection.pull("/data/local/tmp/absent", tmp_path / "absent.bin")
        assert not (tmp_path / "absent.bin").exists()


def test_a_command_past_its_timeout_is_ended_and_the_device_stays_usable(adb_server, device):
    serial = adb_server.attach(device)
    with connect(serial, transport="server", server=adb_server.address) as connection:
        with pytest.raises(CommandTimedOut, match="within 1 s"):
            connection.shell(["sleep", "30"], timeout_s=1)
        assert connection.shell(["echo", "after"]).output == "after\n"


def test_auto_takes_the_server_when_it_lists_the_serial_and_direct_otherwise(adb_server, device):
    serial = adb_server.attach(device)
    assert resolve_transport("auto", parse_serial(serial), adb_server.address) == "server"
    assert resolve_transport("auto", parse_serial("127.0.0.1:1"), adb_server.address) == "direct"
    assert resolve_transport("auto", parse_serial(serial), ServerAddress("127.0.0.1", free_local_port())) == "direct"


# -- one clear line each --------------------------------------------------------------------------------------
def test_a_serial_the_server_never_saw(adb_server, device):
    adb_server.attach(device)
    with pytest.raises(DeviceUnreachable, match=rf"does not know 10\.9\.9\.9:5555 \(it lists {device.serial}\).*"
                                                rf"adb -P {adb_server.port} connect HOST:PORT"):
        connect("10.9.9.9:5555", transport="server", server=adb_server.address)


class PromptingPhone:
    """The device end of a phone showing "Allow USB debugging?": it asks for a signature, refuses it, takes the
    host's public key and then waits for the user, holding the connection (so the server lists it unauthorized)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.serial = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.peers: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                peer, _ = self.listener.accept()
            except OSError:
                return
            self.peers.append(peer)
            threading.Thread(target=self._prompt, args=(peer,), daemon=True).start()

    def _prompt(self, peer: socket.socket):
        try:
            while True:
                message = wire.read_message(peer, verify_checksum=False, max_payload_bytes=wire.MAX_PAYLOAD_BYTES)
                if message.command == wire.CNXN or (message.command == wire.AUTH
                                                    and message.arg0 == wire.AUTH_SIGNATURE):
                    peer.sendall(wire.Message(wire.AUTH, wire.AUTH_TOKEN, 0, os.urandom(20)).encode())
        except (OSError, wire.PeerClosed, wire.ProtocolViolation):
            return

    def close(self):
        self.listener.close()
        for peer in self.peers:
            peer.close()


def test_an_unauthorized_device_says_accept_the_prompt_on_the_phone(adb_server):
    phone = PromptingPhone()
    try:
        adb_server.adb("connect", phone.serial)
        adb_server.wait_for_state(phone.serial, "unauthorized")
        with pytest.raises(AuthenticationFailed, match=rf"{phone.serial} has not accepted the adb server's key: "
                                                       "accept the prompt on the phone"):
            connect(phone.serial, transport="server", server=adb_server.address)
    finally:
        phone.close()


def test_an_offline_device(adb_server, tmp_path):
    with LoopbackDevice(tmp_path / "sandbox") as device:
        serial = adb_server.attach(device)
    adb_server.wait_for_state(serial, "offline")  # the server keeps a connected TCP device, offline, once it goes
    with pytest.raises(DeviceUnreachable, match=f"{serial} is offline on the adb server.*reconnect"):
        connect(serial, transport="server", server=adb_server.address)


def test_a_server_that_is_not_running():
    port = free_local_port()
    with pytest.raises(AdbServerUnavailable, match=rf"no adb server answers at 127\.0\.0\.1:{port} .*"
                                                   rf"adb -P {port} start-server"):
        connect("emulator-5554", transport="server", server=ServerAddress("127.0.0.1", port))


def fake_server(version_text: bytes) -> tuple[socket.socket, threading.Thread]:
    """A server that answers every request OKAY + version_text (what host:version gets)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            with peer:
                length = int(peer.recv(4), 16)
                peer.recv(length)
                peer.sendall(b"OKAY" + b"%04x" % len(version_text) + version_text)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_a_server_too_old(tmp_path):
    listener, _ = fake_server(b"001f")  # version 31
    try:
        port = listener.getsockname()[1]
        with pytest.raises(AdbServerUnavailable, match=r"version 31, older than 32 .*update Android's platform-tools"):
            connect("emulator-5554", transport="server", server=ServerAddress("127.0.0.1", port))
    finally:
        listener.close()


def test_a_server_that_answers_nonsense(tmp_path):
    listener, _ = fake_server(b"zz")
    try:
        port = listener.getsockname()[1]
        with pytest.raises(AdbServerUnavailable, match=r"not a hex version"):
            connect("emulator-5554", transport="server", server=ServerAddress("127.0.0.1", port))
    finally:
        listener.close()
