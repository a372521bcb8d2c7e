"""ADB transport messages: the 24-byte header, its checksum, and reading whole messages off a socket."""

from __future__ import annotations

import select
import socket
import struct
import time
from dataclasses import dataclass

import numpy

HEADER_FORMAT = "<6I"
HEADER_SIZE = struct.calcsize(HEADER_FORMAT)

# Protocol versions: the second one lets a peer skip the data checksum.
VERSION_CHECKSUMMED = 0x01000000
VERSION_SKIP_CHECKSUM = 0x01000001
MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_CONNECT_PAYLOAD_BYTES = 4096
MESSAGE_DEADLINE_S = 30.0  # a message must arrive whole this long after its first byte (a 1 MiB payload on a slow link)
_NUMPY_SUM_THRESHOLD_BYTES = 4096

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSA_PUBLIC_KEY = 3


def command_word(name: bytes) -> int:
    """The little-endian u32 that stands for a four-letter command on the wire."""
    return struct.unpack("<I", name)[0]


CNXN = command_word(b"CNXN")
AUTH = command_word(b"AUTH")
OPEN = command_word(b"OPEN")
OKAY = command_word(b"OKAY")
CLSE = command_word(b"CLSE")
WRTE = command_word(b"WRTE")
STLS = command_word(b"STLS")
KNOWN_COMMANDS = {CNXN, AUTH, OPEN, OKAY, CLSE, WRTE, STLS}


class ProtocolViolation(Exception):
    """The peer sent bytes that are not a valid ADB message; the connection must end."""


class PeerClosed(Exception):
    """The peer closed the socket."""


def data_check(payload: bytes) -> int:
    """The header's data_check field: the plain byte sum of the payload (numpy sums large payloads fast)."""
    if len(payload) < _NUMPY_SUM_THRESHOLD_BYTES:
        return sum(payload) & 0xFFFFFFFF
    return int(numpy.frombuffer(payload, dtype=numpy.uint8).sum(dtype=numpy.uint64)) & 0xFFFFFFFF


@dataclass(frozen=True)
class Message:
    command: int
    arg0: int
    arg1: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        return struct.pack("<I", self.command).decode("ascii", "replace")

    def encode(self) -> bytes:
        header = struct.pack(
            HEADER_FORMAT,
            self.command,
            self.arg0 & 0xFFFFFFFF,
            self.arg1 & 0xFFFFFFFF,
            len(self.payload),
            data_check(self.payload),
            self.command ^ 0xFFFFFFFF,
        )
        return header + self.payload


class MessageTooSlow(ProtocolViolation):
    """A message did not arrive whole within its deadline (a peer trickling bytes to hold a slot)."""


def _receive_exactly(sock: socket.socket, size: int, deadline: float | None = None, deadline_s: float = 0.0) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                raise MessageTooSlow(f"a message did not arrive whole within {deadline_s:g} s")
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise PeerClosed("peer closed the connection")
        chunks += chunk
    return bytes(chunks)


def read_message(sock: socket.socket, *, verify_checksum: bool, max_payload_bytes: int,
                 deadline_s: float | None = None) -> Message:
    """Read one message; checks the magic, the payload size and (when asked) the checksum. With `deadline_s`, the
    whole message must arrive within that many seconds of its first byte (else MessageTooSlow): the wait for
    the first byte is the caller's (its idle timeout), the trickle after it is bounded here."""
    first = sock.recv(HEADER_SIZE)
    if not first:
        raise PeerClosed("peer closed the connection")
    deadline = time.monotonic() + deadline_s if deadline_s is not None else None
    header = first + _receive_exactly(sock, HEADER_SIZE - len(first), deadline, deadline_s or 0.0)
    command, arg0, arg1, length, check, magic = struct.unpack(HEADER_FORMAT, header)
    if command not in KNOWN_COMMANDS or magic != command ^ 0xFFFFFFFF:
        raise ProtocolViolation(f"bad message header (command {command:#x}, magic {magic:#x})")
    if length > max_payload_bytes:
        raise ProtocolViolation(f"payload of {length} bytes exceeds the {max_payload_bytes}-byte maximum")
    payload = _receive_exactly(sock, length, deadline, deadline_s or 0.0) if length else b""
    if verify_checksum and data_check(payload) != check:
        raise ProtocolViolation(f"payload checksum {data_check(payload)} does not match header {check}")
    return Message(command, arg0, arg1, payload)
