"""One ADB stream on the device side: ordered writes with one WRTE in flight, reads acknowledged with OKAY.

Flow control: a host sends its next WRTE only once the previous one was acknowledged (OKAY goes out when the
service takes the data), so a well-behaved host never has more than one payload waiting here. Data beyond
`max_buffered_bytes` (a host that ignores OKAY, e.g. flooding a command that reads no stdin) closes the stream
and drops what was buffered: the device's memory stays bounded whatever the host sends."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from loopback import wire

DEFAULT_MAX_BUFFERED_BYTES = 2 * wire.MAX_PAYLOAD_BYTES  # one payload in flight, and one of slack


class StreamClosed(Exception):
    """The stream was closed (by the host, by the device, or because the connection ended)."""


class Stream:
    """Device end of a stream. `send` is the connection's thread-safe message writer."""

    def __init__(self, local_id: int, remote_id: int, max_payload_bytes: int, send: Callable[[wire.Message], None],
                 max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES):
        self.local_id = local_id
        self.remote_id = remote_id
        self._max_payload_bytes = max_payload_bytes
        self._send = send
        self._inbound: queue.Queue[bytes | None] = queue.Queue()
        self._write_acknowledged = threading.Event()
        self._write_acknowledged.set()
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._closed = False
        self._max_buffered_bytes = max_buffered_bytes
        self._buffered_bytes = 0
        self._on_host_close: list[Callable[[], None]] = []
        self.overflowed = False  # closed because the host sent more than max_buffered_bytes unacknowledged

    @property
    def closed(self) -> bool:
        return self._closed

    # -- called by the service thread -------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Send data to the host in WRTE messages, each waiting for the previous one's OKAY."""
        with self._write_lock:
            for start in range(0, len(data), self._max_payload_bytes):
                self._write_acknowledged.wait()
                if self._closed:
                    raise StreamClosed("stream closed while writing")
                self._write_acknowledged.clear()
                self._send(wire.Message(wire.WRTE, self.local_id, self.remote_id, data[start:start + self._max_payload_bytes]))
            self._write_acknowledged.wait()
            if self._closed:
                raise StreamClosed("stream closed while writing")

    def read(self) -> bytes | None:
        """Next chunk the host wrote (acknowledged to the host as it is taken), or None once the stream closed."""
        chunk = self._inbound.get()
        if chunk is None:
            self._inbound.put(None)
            return None
        with self._state_lock:
            self._buffered_bytes -= len(chunk)
        if not self._closed:
            self._send(wire.Message(wire.OKAY, self.local_id, self.remote_id))
        return chunk

    def close(self) -> None:
        """Close from the device side (the host answers with its own CLSE)."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        self._send(wire.Message(wire.CLSE, self.local_id, self.remote_id))
        self._wake_everyone()

    def when_host_closes(self, callback: Callable[[], None]) -> None:
        """Call `callback` (once, from the connection's thread) when the host closes the stream or overflows it."""
        self._on_host_close.append(callback)

    # -- called by the connection's reader thread --------------------------------------------------
    def deliver(self, data: bytes) -> None:
        """Queue the host's data for the service; beyond max_buffered_bytes the stream is closed instead."""
        with self._state_lock:
            if self._closed:
                return  # data after a close is dropped
            if self._buffered_bytes + len(data) <= self._max_buffered_bytes:
                self._buffered_bytes += len(data)
                self._inbound.put(data)
                return
            self.overflowed = True
        self._drop_buffered()
        self.host_closed(echo=True)

    def acknowledge_write(self) -> None:
        self._write_acknowledged.set()

    def host_closed(self, *, echo: bool) -> bool:
        """The host sent CLSE (or the connection ended). Returns True if the stream was still open."""
        with self._state_lock:
            was_open = not self._closed
            self._closed = True
        if was_open and echo:
            try:
                self._send(wire.Message(wire.CLSE, self.local_id, self.remote_id))
            except StreamClosed:
                pass
        self._wake_everyone()
        if was_open:
            for callback in self._on_host_close:
                callback()
        return was_open

    def _drop_buffered(self) -> None:
        while True:
            try:
                self._inbound.get_nowait()
            except queue.Empty:
                break
        with self._state_lock:
            self._buffered_bytes = 0

    def _wake_everyone(self) -> None:
        self._write_acknowledged.set()
        self._inbound.put(None)
