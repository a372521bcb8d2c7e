"""One host connection to the loopback device: handshake, optional authentication, and stream routing.

What one host can hold is bounded: a message must arrive whole within `message_deadline_s` of its first byte
(a host trickling bytes cannot keep a slot), the handshake must end within `handshake_deadline_s`, at most
`max_streams` streams run at once (a further OPEN is refused with CLSE, as adbd refuses a service it cannot
start), and each stream buffers at most `max_buffered_bytes` of unacknowledged data (loopback.stream)."""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from loopback import wire
from loopback.accepted_keys import AcceptedKeys, MalformedPublicKey
from loopback.stream import DEFAULT_MAX_BUFFERED_BYTES, Stream, StreamClosed

_LOG = logging.getLogger(__name__)

AUTH_TOKEN_BYTES = 20
DEFAULT_MAX_STREAMS = 16  # streams running at once on one connection (each may be a process)
HANDSHAKE_DEADLINE_S = 60.0


class ConnectionEnded(Exception):
    """The connection is over (peer gone, protocol violation, refused key, or dropped on purpose)."""


@dataclass(frozen=True)
class AuthPolicy:
    required: bool
    accept_new_keys: bool
    keys: AcceptedKeys


class ServiceLauncher(Protocol):
    """Starts a service on an opened stream; returns None when the service name is unknown."""

    def __call__(self, service: str) -> Callable[[Stream], None] | None: ...


class DeviceHooks(Protocol):
    """What a connection asks of its device: fault decisions and bookkeeping."""

    def on_open(self) -> bool: ...  # False = drop the connection now

    def on_bytes_received(self, count: int) -> bool: ...  # False = drop the connection now


class Connection:
    """One host connection. With idle_timeout_s, it ends once the host has sent nothing for that long while
    no stream is open (a running command keeps it open however long it runs)."""

    def __init__(self, sock: socket.socket, banner: str, auth: AuthPolicy, launch: ServiceLauncher, hooks: DeviceHooks,
                 idle_timeout_s: float | None = None, *, message_deadline_s: float | None = wire.MESSAGE_DEADLINE_S,
                 max_streams: int = DEFAULT_MAX_STREAMS, max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
                 handshake_deadline_s: float = HANDSHAKE_DEADLINE_S):
        self._sock = sock
        self._message_deadline_s = message_deadline_s
        self._max_streams = max_streams
        self._max_buffered_bytes = max_buffered_bytes
        self._handshake_deadline_s = handshake_deadline_s
        self._handshake_ends = float("inf")
        self.refused_opens = 0
        self._idle_timeout_s = idle_timeout_s
        self._last_activity = time.monotonic()
        if idle_timeout_s is not None:
            sock.settimeout(idle_timeout_s)  # a host that stalls mid-message (or stops reading) for that long is gone
        self._banner = banner
        self._auth = auth
        self._launch = launch
        self._hooks = hooks
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._streams_lock = threading.Lock()
        self._next_local_id = 1
        self._verify_checksum = True
        self._max_payload_bytes = wire.MAX_CONNECT_PAYLOAD_BYTES
        self._dead = threading.Event()

    # -- sending --------------------------------------------------------------------------------
    def send(self, message: wire.Message) -> None:
        if self._dead.is_set():
            raise StreamClosed("connection is closed")
        try:
            with self._send_lock:
                self._sock.sendall(message.encode())
        except OSError as error:
            self.drop()
            raise StreamClosed(f"connection lost: {error}") from error

    def drop(self) -> None:
        """End the connection at once, as if the cable were pulled."""
        if self._dead.is_set():
            return
        self._dead.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the connection's life ----------------------------------------------------------------------
    def serve(self) -> None:
        """Run until the host leaves or the connection is dropped."""
        try:
            self._handshake()
            while not self._dead.is_set():
                self._dispatch(self._read())
        except (ConnectionEnded, wire.PeerClosed, wire.ProtocolViolation, OSError, StreamClosed) as reason:
            _LOG.debug("connection ended: %s", reason)
        finally:
            self.drop()
            with self._streams_lock:
                streams = list(self._streams.values())
                self._streams.clear()
            for stream in streams:
                stream.host_closed(echo=False)
            self._sock.close()

    def _wait_for_input(self) -> None:
        """Block until the host sends something; raise ConnectionEnded once it has been idle too long."""
        if self._idle_timeout_s is None:
            return
        while True:
            if self._has_open_stream():
                self._last_activity = time.monotonic()
                wait_s = self._idle_timeout_s
            else:
                wait_s = self._last_activity + self._idle_timeout_s - time.monotonic()
                if wait_s <= 0:
                    raise ConnectionEnded(f"idle for {self._idle_timeout_s} s with no open stream")
            readable, _, _ = select.select([self._sock], [], [], wait_s)
            if readable:
                return

    def _has_open_stream(self) -> bool:
        with self._streams_lock:
            return any(not stream.closed for stream in self._streams.values())

    def _read(self) -> wire.Message:
        self._wait_for_input()
        message = wire.read_message(self._sock, verify_checksum=self._verify_checksum, max_payload_bytes=wire.MAX_PAYLOAD_BYTES,
                                    deadline_s=self._message_deadline_s)
        if time.monotonic() > self._handshake_ends:
            raise ConnectionEnded(f"no handshake within {self._handshake_deadline_s:g} s")
        if message.command == wire.WRTE and not self._hooks.on_bytes_received(len(message.payload)):
            raise ConnectionEnded("dropped after the configured number of bytes")
        self._last_activity = time.monotonic()
        return message

    def _handshake(self) -> None:
        self._handshake_ends = time.monotonic() + self._handshake_deadline_s
        try:
            self._shake_hands()
        finally:
            self._handshake_ends = float("inf")

    def _shake_hands(self) -> None:
        hello = self._read()
        while hello.command != wire.CNXN:
            hello = self._read()  # a host may send stray messages before CNXN; adbd ignores them too
        version = min(hello.arg0, wire.VERSION_SKIP_CHECKSUM)
        self._max_payload_bytes = max(wire.MAX_CONNECT_PAYLOAD_BYTES, min(hello.arg1, wire.MAX_PAYLOAD_BYTES))
        if self._auth.required:
            self._authenticate()
        self._verify_checksum = version < wire.VERSION_SKIP_CHECKSUM
        self.send(wire.Message(wire.CNXN, version, self._max_payload_bytes, self._banner.encode("utf-8")))

    def _authenticate(self) -> None:
        token = os.urandom(AUTH_TOKEN_BYTES)
        self.send(wire.Message(wire.AUTH, wire.AUTH_TOKEN, 0, token))
        while True:
            message = self._read()
            if message.command != wire.AUTH:
                continue
            if message.arg0 == wire.AUTH_SIGNATURE:
                if self._auth.keys.verify(token, message.payload):
                    return
                token = os.urandom(AUTH_TOKEN_BYTES)
                self.send(wire.Message(wire.AUTH, wire.AUTH_TOKEN, 0, token))
            elif message.arg0 == wire.AUTH_RSA_PUBLIC_KEY:
                if not self._auth.accept_new_keys:
                    raise ConnectionEnded("host key refused (the device accepts only keys in its adb_keys list)")
                try:
                    self._auth.keys.add(message.payload.decode("utf-8", "replace"))
                except MalformedPublicKey as error:
                    raise ConnectionEnded(f"host sent an unreadable public key: {error}") from error
                return

    def _dispatch(self, message: wire.Message) -> None:
        if message.command == wire.OPEN:
            self._open(message)
            return
        with self._streams_lock:
            stream = self._streams.get(message.arg1)
        if stream is None:
            return  # a late message for a stream that already ended
        if message.command == wire.OKAY:
            stream.acknowledge_write()
        elif message.command == wire.WRTE:
            stream.deliver(message.payload)
        elif message.command == wire.CLSE:
            stream.host_closed(echo=True)
            self._forget(stream)

    def _open(self, message: wire.Message) -> None:
        service = message.payload.rstrip(b"\0").decode("utf-8", "replace")
        if not self._hooks.on_open():
            raise ConnectionEnded("dropped after the configured number of commands")
        run_service = self._launch(service)
        if run_service is None:
            self.send(wire.Message(wire.CLSE, 0, message.arg0))
            return
        with self._streams_lock:
            full = len(self._streams) >= self._max_streams
            if not full:
                local_id = self._next_local_id
                self._next_local_id += 1
                stream = Stream(local_id, message.arg0, self._max_payload_bytes, self.send, self._max_buffered_bytes)
                self._streams[local_id] = stream
        if full:
            self.refused_opens += 1
            _LOG.debug("OPEN refused: %d streams already open", self._max_streams)
            self.send(wire.Message(wire.CLSE, 0, message.arg0))
            return
        self.send(wire.Message(wire.OKAY, local_id, message.arg0))
        threading.Thread(target=self._run_service, args=(run_service, stream), name=f"adb-{service[:24]}", daemon=True).start()

    def _run_service(self, run_service: Callable[[Stream], None], stream: Stream) -> None:
        try:
            run_service(stream)
        except StreamClosed:
            pass
        except Exception:  # a service bug must not take the device down; the host sees the stream close
            _LOG.exception("service failed")
        finally:
            try:
                stream.close()
            except StreamClosed:
                pass
            self._forget(stream)  # its service ended: it no longer counts against max_streams
            self._last_activity = time.monotonic()  # the idle time counts from the end of the last service

    def _forget(self, stream: Stream) -> None:
        with self._streams_lock:
            if self._streams.get(stream.local_id) is stream:
                del self._streams[stream.local_id]
