"""Fuzzing the loopback device (the far end of the wire): its ADB message parser, the whole device with generated
message sequences, and its sync service with generated requests. The parser ends in a Message or in
ProtocolViolation / PeerClosed; the device stays up (a new host is still served), no service dies with an
exception, and no file appears outside the sandbox."""

from __future__ import annotations

import logging
import socket
import struct
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loopback_raw_host import RawHost

from loopback import LoopbackDevice, wire

COMMANDS = sorted(wire.KNOWN_COMMANDS)
SAFE_SERVICES = st.one_of(
    st.sampled_from([b"sync:\0", b"shell:true\0", b"shell,v2:cat\0", b"shell:cat\0", b"exec:true\0", b"bogus:\0",
                     b"sync:x\0", b"shell\0", b""]),
    st.text(max_size=40).filter(lambda name: name.partition(":")[0].split(",")[0] not in ("shell", "exec"))
    .map(lambda name: name.encode("utf-8", "surrogatepass")),
)


def encoded(command: int, arg0: int, arg1: int, payload: bytes, corrupt: int | None) -> bytes:
    data = bytearray(wire.Message(command, arg0, arg1, payload).encode())
    if corrupt is not None:
        data[corrupt % len(data)] ^= 0xFF
    return bytes(data)


MESSAGE = st.builds(
    encoded,
    st.sampled_from(COMMANDS),
    st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1), st.just(wire.VERSION_SKIP_CHECKSUM)),
    st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1), st.just(wire.MAX_PAYLOAD_BYTES)),
    st.one_of(SAFE_SERVICES, st.binary(max_size=200)),
    st.one_of(st.none(), st.none(), st.none(), st.integers(0, 300)),
)
# Each device-level input costs a connection and up to a few tenths of a second of waiting for answers: a full
# run tries at most this many per target (the quick run its profile's few).
DEVICE_EXAMPLES = min(settings().max_examples, 300)
CNXN = wire.Message(wire.CNXN, wire.VERSION_CHECKSUMMED, wire.MAX_PAYLOAD_BYTES, b"host::\0").encode()


def read_all(data: bytes, deadline_s: float | None = None) -> list[wire.Message]:
    """Messages parsed from `data` until the parser stops (it must stop with one of its own errors)."""
    left, right = socket.socketpair()
    with left, right:
        left.sendall(data)
        left.shutdown(socket.SHUT_WR)
        messages = []
        while True:
            try:
                messages.append(wire.read_message(right, verify_checksum=True, max_payload_bytes=wire.MAX_PAYLOAD_BYTES,
                                                  deadline_s=deadline_s))
            except (wire.ProtocolViolation, wire.PeerClosed):
                return messages


@given(st.one_of(st.binary(max_size=400), st.lists(MESSAGE, max_size=5).map(b"".join)), st.sampled_from([None, 1.0]))
def test_fuzz_wire_parser(data, deadline_s):
    for message in read_all(data[:4096], deadline_s):
        assert message.command in wire.KNOWN_COMMANDS and len(message.payload) <= wire.MAX_PAYLOAD_BYTES


class ServiceFailures(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def fuzzed_device(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzzed_device")
    failures = ServiceFailures()
    logging.getLogger("loopback").addHandler(failures)
    outside = root / "outside"
    outside.mkdir()
    try:
        with LoopbackDevice(root / "sandbox", idle_timeout_s=2, message_deadline_s=1.0,
                            max_streams_per_connection=4) as device:
            yield device, failures, outside
    finally:
        logging.getLogger("loopback").removeHandler(failures)


def still_serves(device: LoopbackDevice) -> None:
    host = RawHost(device.port, timeout_s=10)
    try:
        assert host.read().command == wire.CNXN
        okay = host.open(1, "shell:echo up")
        assert okay.command == wire.OKAY
        assert host.read_stream(1, okay.arg0) == b"up\n"
    finally:
        host.close()


def files_outside(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


@pytest.mark.slow
@settings(max_examples=DEVICE_EXAMPLES)
@given(st.booleans(), st.lists(MESSAGE, max_size=8))
def test_fuzz_device_with_message_sequences(fuzzed_device, start_with_cnxn, messages):
    device, failures, outside = fuzzed_device
    with socket.create_connection(("127.0.0.1", device.port), timeout=5) as sock:
        try:
            sock.sendall((CNXN if start_with_cnxn else b"") + b"".join(messages))
            sock.settimeout(0.05)
            while sock.recv(65536):
                pass
        except OSError:
            pass  # the device may close or reset the connection on a protocol violation
    still_serves(device)
    assert not failures.records, failures.records[0].getMessage()
    assert files_outside(outside) == []


def sync_request(request_id: bytes, data: bytes) -> bytes:
    return struct.pack("<4sI", request_id, len(data)) + data


PATHS = st.one_of(
    st.sampled_from(["/data/local/tmp/f", "/data/local/tmp/../../../../etc/passwd", "/data/local/tmp/sub/g",
                     "../outside/x", "/proc/self/environ", "/data/local/tmp/\0x", "/", "", "/data/local/tmp/" + "a" * 300,
                     "/data/local/tmp/link"]),
    st.text(max_size=60),
)
MODES = st.one_of(st.sampled_from(["33188", "0", "4294967295", "4294967296", "99999999999999999999", "²", "-1", "0o777",
                                   "41471", "36333", ""]), st.text(max_size=12))
SYNC_REQUEST = st.one_of(
    st.builds(lambda path, mode, chunks, done: sync_request(b"SEND", f"{path},{mode}".encode("utf-8", "surrogatepass"))
              + b"".join(sync_request(b"DATA", chunk) for chunk in chunks) + (struct.pack("<4sI", b"DONE", 0) if done else b""),
              PATHS, MODES, st.lists(st.binary(max_size=100), max_size=3), st.booleans()),
    st.builds(lambda kind, path: sync_request(kind, path.encode("utf-8", "surrogatepass")),
              st.sampled_from([b"STAT", b"LIST", b"RECV", b"QUIT", b"XXXX", b"DATA", b"DONE"]), PATHS),
    st.builds(lambda kind, length, tail: struct.pack("<4sI", kind, length) + tail,
              st.sampled_from([b"SEND", b"STAT", b"DATA"]), st.integers(0, 2**32 - 1), st.binary(max_size=20)),
    st.binary(max_size=64),
)


@pytest.mark.slow
@settings(max_examples=DEVICE_EXAMPLES)
@given(st.lists(SYNC_REQUEST, min_size=1, max_size=4), st.integers(1, 64))
def test_fuzz_sync_service(fuzzed_device, requests, split_bytes):
    device, failures, outside = fuzzed_device
    host = RawHost(device.port, timeout_s=5)
    try:
        assert host.read().command == wire.CNXN
        okay = host.open(9, "sync:")
        assert okay.command == wire.OKAY
        data = b"".join(requests)
        chunk_bytes = max(len(data) // split_bytes, 1)
        host.sock.settimeout(0.1)
        for start in range(0, len(data), chunk_bytes):  # a request may straddle WRTE messages
            host.send(wire.Message(wire.WRTE, 9, okay.arg0, data[start:start + chunk_bytes]))
        ends = time.monotonic() + 2
        while time.monotonic() < ends:
            try:
                message = host.read()
            except (TimeoutError, wire.PeerClosed, wire.ProtocolViolation, OSError):
                break
            if message.command == wire.WRTE:
                host.send(wire.Message(wire.OKAY, 9, okay.arg0))
            elif message.command == wire.CLSE:
                break
    finally:
        host.close()
    still_serves(device)
    assert not failures.records, failures.records[0].getMessage()
    assert files_outside(outside) == []
