"""The adb server's host protocol ("smart sockets"), client side: requests, device list, transport selection,
shell v2 framing and the sync service.

Written here rather than taken from adbutils 2.12.0, the maintained Python client, for what was measured on
this project's machine (a throwaway venv, not the project's): with nothing listening at the address it was
given, adbutils ran the Google `adb` binary bundled in its wheel (8.7 MB) as `adb fork-server` on that port
and answered an empty device list, no error, in 0.15 s; its connect code does so for any host, so a lab user
whose remote server is down would silently get a local server that claims every USB phone on the desk. It
also installs 10 more wheels (requests, Pillow, retry2, deprecation, ...; 36 MB with its own 8.8 MB) for the
five host services the sweep needs. What is used here is stdlib socket code, and a server that is not there
is an error that says so.

Every request is 4 hex digits of length then the text; the server answers OKAY, or FAIL with 4 hex digits of
length and a message. After a transport is selected the same socket carries one device service.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

DEFAULT_SERVER_HOST = "127.0.0.1"
DEFAULT_SERVER_PORT = 5037
SERVER_HOST_ENV = "ANDROID_ADB_SERVER_HOST"
SERVER_PORT_ENV = "ANDROID_ADB_SERVER_PORT"
TPORT_MIN_VERSION = 41  # host:tport:serial: (answers with the transport id) exists from this server version on
MIN_SERVER_VERSION = 32  # older servers (before adb 1.0.32) are too old for this client
SYNC_CHUNK_BYTES = 64 * 1024
SEND_BATCH_BYTES = 1024 * 1024
SYNC_PATH_MAX_BYTES = 1024
MAX_REPLY_BYTES = 1 << 20

# shell v2 packet ids
SHELL_STDIN, SHELL_STDOUT, SHELL_STDERR, SHELL_EXIT, SHELL_CLOSE_STDIN = 0, 1, 2, 3, 4


class HostProtocolError(Exception):
    """Base of this module's errors (translated into bench.errors by bench.adb.transport.server)."""


class ServerUnavailable(HostProtocolError):
    """Nothing answers at the server's address (or it closed the connection at once)."""


class ServerRefused(HostProtocolError):
    """The server answered FAIL; ``message`` is its text."""

    def __init__(self, request: str, message: str):
        super().__init__(f"{request}: {message}")
        self.request = request
        self.message = message


class StreamBroken(HostProtocolError):
    """The connection ended or sent something that is not the protocol, mid-exchange."""


class ExchangeTimedOut(HostProtocolError):
    """No answer within the exchange's time limit."""


@dataclass(frozen=True)
class ServerAddress:
    host: str = DEFAULT_SERVER_HOST
    port: int = DEFAULT_SERVER_PORT

    @property
    def text(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> ServerAddress:
        """HOST:PORT, :PORT or HOST (port 5037); ValueError with what is expected otherwise."""
        host, _, port_text = text.strip().rpartition(":") if ":" in text else (text.strip(), "", "")
        host = host.strip("[]") or DEFAULT_SERVER_HOST
        if not port_text:
            return cls(host, DEFAULT_SERVER_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536 or any(c.isspace() for c in host):
            raise ValueError(f"cannot read adb server address {text!r}: give HOST:PORT, e.g. 127.0.0.1:5037")
        return cls(host, int(port_text))

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> ServerAddress:
        """ANDROID_ADB_SERVER_HOST / ANDROID_ADB_SERVER_PORT, as the `adb` command reads them."""
        environ = dict(os.environ) if environ is None else environ
        host = environ.get(SERVER_HOST_ENV, "").strip() or DEFAULT_SERVER_HOST
        port_text = environ.get(SERVER_PORT_ENV, "").strip()
        if not port_text:
            return cls(host, DEFAULT_SERVER_PORT)
        return cls.parse(f"{host}:{port_text}")


@dataclass(frozen=True)
class ListedDevice:
    """One line of host:devices-l: serial, state (device, unauthorized, offline, ...) and its key:value details."""

    serial: str
    state: str
    details: dict[str, str] = field(default_factory=dict)


def parse_device_list(text: str) -> list[ListedDevice]:
    devices = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        details = dict(word.split(":", 1) for word in words[2:] if ":" in word)
        # a state of two words ("no permissions ...") has no ':' in its first word after the serial
        devices.append(ListedDevice(serial=words[0], state=words[1], details=details))
    return devices


class ServerSocket:
    """One connection to the adb server; one host request, or one transport selection and one device service."""

    def __init__(self, address: ServerAddress, timeout_s: float):
        self.address = address
        try:
            self._socket = socket.create_connection((address.host, address.port), timeout=timeout_s)
        except TimeoutError as error:
            raise ServerUnavailable(f"no answer within {timeout_s:g} s") from error
        except OSError as error:
            raise ServerUnavailable(error.strerror or str(error)) from error
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._deadline: float | None = None
        self._buffer = bytearray()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()

    def __enter__(self) -> ServerSocket:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def set_deadline(self, timeout_s: float) -> None:
        self._deadline = time.monotonic() + timeout_s

    def _remaining_s(self) -> float:
        if self._deadline is None:
            return 30.0
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise ExchangeTimedOut("time limit reached")
        return remaining

    # -- bytes -------------------------------------------------------------------------------------
    def send(self, data: bytes | memoryview) -> None:
        try:
            self._socket.settimeout(self._remaining_s())
            self._socket.sendall(data)
        except TimeoutError as error:
            raise ExchangeTimedOut("sending timed out") from error
        except OSError as error:
            raise StreamBroken(f"sending failed ({error.strerror or error})") from error

    def receive_some(self, limit: int = 256 * 1024) -> bytes:
        """What has come (at most limit bytes); b"" at the end of the stream."""
        if self._buffer:
            data = bytes(self._buffer[:limit])
            del self._buffer[:limit]
            return data
        try:
            self._socket.settimeout(self._remaining_s())
            return self._socket.recv(limit)
        except TimeoutError as error:
            raise ExchangeTimedOut("no answer") from error
        except OSError as error:
            raise StreamBroken(f"receiving failed ({error.strerror or error})") from error

    def receive_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                self._socket.settimeout(self._remaining_s())
                chunk = self._socket.recv(max(size - len(self._buffer), 64 * 1024))
            except TimeoutError as error:
                raise ExchangeTimedOut("no answer") from error
            except OSError as error:
                raise StreamBroken(f"receiving failed ({error.strerror or error})") from error
            if not chunk:
                raise StreamBroken(f"the connection ended after {len(self._buffer)} of {size} bytes")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    # -- smart-socket framing ----------------------------------------------------------------------
    def request(self, text: str) -> None:
        """Send one request and read OKAY; ServerRefused with the server's message on FAIL."""
        payload = text.encode("utf-8")
        if len(payload) > 0xFFFF:
            raise ValueError(f"request of {len(payload)} bytes is longer than the protocol allows")
        self.send(b"%04x" % len(payload) + payload)
        self.read_status(text)

    def read_status(self, request: str) -> None:
        status = self.receive_exactly(4)
        if status == b"OKAY":
            return
        if status == b"FAIL":
            raise ServerRefused(request, self.read_length_prefixed())
        raise StreamBroken(f"the server answered {status!r} to {request!r}, neither OKAY nor FAIL")

    def read_length_prefixed(self) -> str:
        length_text = self.receive_exactly(4)
        try:
            length = int(length_text, 16)
        except ValueError:
            raise StreamBroken(f"the server sent {length_text!r} where a hex length belongs") from None
        if length > MAX_REPLY_BYTES:
            raise StreamBroken(f"the server announced a reply of {length} bytes")
        return self.receive_exactly(length).decode("utf-8", "replace")


def host_query(address: ServerAddress, request: str, timeout_s: float) -> str:
    """One host service that answers with a length-prefixed text (host:version, host:devices-l, ...)."""
    with ServerSocket(address, timeout_s) as server:
        server.set_deadline(timeout_s)
        server.request(request)
        return server.read_length_prefixed()


def server_version(address: ServerAddress, timeout_s: float) -> int:
    text = host_query(address, "host:version", timeout_s).strip()
    try:
        return int(text, 16)
    except ValueError:
        raise StreamBroken(f"host:version answered {text!r}, not a hex version") from None


def list_devices(address: ServerAddress, timeout_s: float) -> list[ListedDevice]:
    return parse_device_list(host_query(address, "host:devices-l", timeout_s))


def open_device_service(address: ServerAddress, serial: str, service: str, timeout_s: float,
                        use_tport: bool) -> ServerSocket:
    """A socket carrying `service` on the device `serial` (transport selected with host:tport, or host:transport
    on servers older than TPORT_MIN_VERSION). The caller sets the deadline of what follows."""
    server = ServerSocket(address, timeout_s)
    try:
        server.set_deadline(timeout_s)
        if use_tport:
            server.request(f"host:tport:serial:{serial}")
            server.receive_exactly(8)  # the transport id
        else:
            server.request(f"host:transport:{serial}")
        server.request(service)
    except BaseException:
        server.close()
        raise
    return server


# -- shell v2 --------------------------------------------------------------------------------------
def shell_v2_packet(packet_id: int, data: bytes = b"") -> bytes:
    return struct.pack("<BI", packet_id, len(data)) + data


def read_shell_v2(server: ServerSocket, on_output: Callable[[bytes], None]) -> int | None:
    """Read shell v2 packets until the exit packet; the exit code, or None when the stream ended without one."""
    while True:
        try:
            header = server.receive_exactly(5)
        except StreamBroken:
            return None
        packet_id, length = struct.unpack("<BI", header)
        if length > MAX_REPLY_BYTES:
            raise StreamBroken(f"a shell packet of {length} bytes")
        data = server.receive_exactly(length)
        if packet_id in (SHELL_STDOUT, SHELL_STDERR):
            on_output(data)
        elif packet_id == SHELL_EXIT:
            return data[0] if data else None


def read_shell_v1(server: ServerSocket, on_output: Callable[[bytes], None]) -> None:
    """Read a v1 shell's merged output to the end of the stream."""
    while True:
        try:
            data = server.receive_some()
        except StreamBroken:
            return
        if not data:
            return
        on_output(data)


# -- sync ------------------------------------------------------------------------------------------
def sync_request(server: ServerSocket, command: bytes, argument: bytes) -> None:
    if len(argument) > SYNC_PATH_MAX_BYTES:
        raise ValueError(f"device path of {len(argument)} bytes; sync allows at most {SYNC_PATH_MAX_BYTES}")
    server.send(command + struct.pack("<I", len(argument)) + argument)


def sync_stat(server: ServerSocket, path: str) -> tuple[int, int, int]:
    """(mode, size, mtime) of a device path; all zero when it does not exist."""
    sync_request(server, b"STAT", path.encode("utf-8"))
    reply = server.receive_exactly(16)
    if reply[:4] != b"STAT":
        raise StreamBroken(f"sync STAT answered {reply[:4]!r}")
    mode, size, mtime = struct.unpack("<III", reply[4:])
    return mode, size, mtime


class SyncRefused(HostProtocolError):
    """The device answered a sync request with FAIL; the message is the device's."""


def sync_send(server: ServerSocket, source: BinaryIO, path: str, mode: int, mtime_s: int, step_timeout_s: float,
              on_chunk: Callable[[int], None] | None = None) -> None:
    """SEND path,mode; DATA packets of `source`'s bytes (at most 64 KiB each); DONE mtime; then the device's OKAY or
    FAIL. The packets are laid out in one buffer and sent SEND_BATCH_BYTES at a time (file bytes read straight into
    it: no copies in Python, few system calls); each batch has step_timeout_s."""
    sync_request(server, b"SEND", f"{path},{mode}".encode())
    packet = 8 + SYNC_CHUNK_BYTES
    buffer = bytearray(packet * (SEND_BATCH_BYTES // SYNC_CHUNK_BYTES))
    view = memoryview(buffer)
    finished = False
    while not finished:
        used = 0
        while used + packet <= len(buffer):
            size = source.readinto(view[used + 8:used + packet])  # type: ignore[attr-defined]
            if not size:
                finished = True
                break
            struct.pack_into("<4sI", buffer, used, b"DATA", size)
            used += 8 + size
            if on_chunk is not None:
                on_chunk(size)
        if finished:
            struct.pack_into("<4sI", buffer, used, b"DONE", mtime_s & 0xFFFFFFFF)
            used += 8
        server.set_deadline(step_timeout_s)
        server.send(view[:used])
    reply = server.receive_exactly(8)
    if reply[:4] == b"OKAY":
        return
    if reply[:4] == b"FAIL":
        length = struct.unpack("<I", reply[4:])[0]
        raise SyncRefused(server.receive_exactly(min(length, MAX_REPLY_BYTES)).decode("utf-8", "replace"))
    raise StreamBroken(f"sync SEND answered {reply[:4]!r}")


def sync_receive(server: ServerSocket, path: str, write: Callable[[bytes], None]) -> None:
    """RECV path: DATA chunks to `write` until DONE; SyncRefused on FAIL."""
    sync_request(server, b"RECV", path.encode("utf-8"))
    while True:
        header = server.receive_exactly(8)
        kind, length = header[:4], struct.unpack("<I", header[4:])[0]
        if kind == b"DONE":
            return
        if kind == b"FAIL":
            raise SyncRefused(server.receive_exactly(min(length, MAX_REPLY_BYTES)).decode("utf-8", "replace"))
        if kind != b"DATA" or length > MAX_REPLY_BYTES:
            raise StreamBroken(f"sync RECV answered {kind!r} ({length} bytes)")
        write(server.receive_exactly(length))


def sync_quit(server: ServerSocket) -> None:
    with contextlib.suppress(HostProtocolError):
        server.send(b"QUIT" + struct.pack("<I", 0))
