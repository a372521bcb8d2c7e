"""The `sync:` service: STAT, LIST, SEND, RECV and QUIT over one stream.

Requests are id(4) + u32 length + data. A failed SEND is reported (FAIL + message) once the host has sent
DONE: the host may still be writing DATA, and some hosts read no reply until then.

Paths go through DeviceStorage.resolve. RECV outside what the device lets the shell user read, and SEND
outside the sandbox, are answered with FAIL and a message. STAT and LIST have no FAIL form in the protocol
(hosts read fixed-size STAT and DENT records; adbd itself answers an unreadable path with an all-zero STAT
and an empty listing), so there a refused path is the all-zero STAT and a listing of only DONE. A path with
a NUL byte is refused the same way. SEND never makes a symlink and drops setuid, setgid and sticky bits.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import tempfile
from pathlib import Path
from typing import BinaryIO

from loopback.storage import DEVICE_TMP_DIR, DeviceStorage
from loopback.stream import Stream, StreamClosed

MAX_PATH_BYTES = 1024
MAX_DATA_CHUNK_BYTES = 64 * 1024
PUSHED_MODE_BITS = 0o777  # permission bits a pushed file keeps: never setuid, setgid or sticky
_REQUEST = struct.Struct("<4sI")
_STAT_REPLY = struct.Struct("<4sIII")
_DENT = struct.Struct("<4sIIII")


class _StreamReader:
    """Byte-exact reads over a stream's chunks (sync packets may straddle WRTE messages)."""

    def __init__(self, stream: Stream):
        self._stream = stream
        self._buffer = bytearray()

    def read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self._stream.read()
            if chunk is None:
                raise StreamClosed("host closed the sync stream")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def _fail(stream: Stream, message: str) -> None:
    data = message.encode("utf-8")
    stream.write(_REQUEST.pack(b"FAIL", len(data)) + data)


def _u32(value: int | float) -> int:
    return int(value) & 0xFFFFFFFF


class SyncSession:
    def __init__(self, stream: Stream, storage: DeviceStorage):
        self._stream = stream
        self._reader = _StreamReader(stream)
        self._storage = storage

    def run(self) -> None:
        handlers = {b"STAT": self._stat, b"LIST": self._list, b"SEND": self._send, b"RECV": self._recv}
        while True:
            request_id, length = _REQUEST.unpack(self._reader.read_exactly(_REQUEST.size))
            if request_id == b"QUIT":
                return
            handler = handlers.get(request_id)
            if handler is None:
                _fail(self._stream, f"unknown sync request {request_id!r}")
                return
            if length > MAX_PATH_BYTES:
                _fail(self._stream, f"path too long ({length} bytes, at most {MAX_PATH_BYTES})")
                return
            handler(self._reader.read_exactly(length).decode("utf-8", "surrogateescape"))

    def _stat(self, device_path: str) -> None:
        reply = _STAT_REPLY.pack(b"STAT", 0, 0, 0)
        resolved = self._storage.resolve(device_path)
        if resolved.readable:
            try:
                info = resolved.host_path.lstat()
                reply = _STAT_REPLY.pack(b"STAT", _u32(info.st_mode), _u32(info.st_size), _u32(info.st_mtime))
            except OSError:
                pass
        self._stream.write(reply)

    def _readable(self, device_path: str) -> Path | None:
        """The host path to read for device_path, or None after answering FAIL."""
        if "\0" in device_path:
            _fail(self._stream, f"{device_path!r}: a path cannot contain a NUL byte")
            return None
        resolved = self._storage.resolve(device_path)
        if not resolved.readable:
            _fail(self._stream, f"{device_path}: Permission denied (the loopback device reads only "
                                f"{DEVICE_TMP_DIR} and the CPU and thermal facts in /proc and /sys)")
            return None
        return resolved.host_path

    def _list(self, device_path: str) -> None:
        resolved = self._storage.resolve(device_path)
        folder = resolved.host_path
        entries = bytearray()
        try:
            names = [".", ".."] + sorted(os.listdir(folder)) if resolved.readable else []
        except OSError:
            names = []
        for name in names:
            try:
                info = (folder / name).lstat()
            except OSError:
                continue
            encoded = name.encode("utf-8", "surrogateescape")
            entries += _DENT.pack(b"DENT", _u32(info.st_mode), _u32(info.st_size), _u32(info.st_mtime), len(encoded)) + encoded
            if len(entries) >= MAX_DATA_CHUNK_BYTES:
                self._stream.write(bytes(entries))
                entries.clear()
        entries += _DENT.pack(b"DONE", 0, 0, 0, 0)
        self._stream.write(bytes(entries))

    def _recv(self, device_path: str) -> None:
        source_path = self._readable(device_path)
        if source_path is None:
            return
        try:
            with open(source_path, "rb") as source:
                while chunk := source.read(MAX_DATA_CHUNK_BYTES):
                    self._stream.write(_REQUEST.pack(b"DATA", len(chunk)) + chunk)
        except OSError as error:
            _fail(self._stream, f"{device_path}: {error.strerror or error}")
            return
        self._stream.write(_REQUEST.pack(b"DONE", 0))

    def _send(self, path_and_mode: str) -> None:
        device_path, comma, mode_text = path_and_mode.rpartition(",")
        error = None
        if not comma or not re.fullmatch(r"[0-9]{1,10}", mode_text, flags=re.ASCII) or int(mode_text) > 0xFFFFFFFF:
            error = f"bad SEND request {path_and_mode!r}: expected path,mode (mode a decimal number below 2^32)"
        elif "\0" in device_path:
            error = f"couldn't create file {device_path!r}: a path cannot contain a NUL byte"
        elif stat.S_ISLNK(int(mode_text)):
            error = f"couldn't create {device_path}: the loopback device does not create symlinks; push the file itself"
        writer = _FileWriter(self._storage, device_path, int(mode_text) if not error else 0)
        error = error or writer.open()
        try:
            error = self._receive_file(writer, error)
        except StreamClosed:
            writer.abandon()
            raise
        if error is None:
            self._stream.write(_REQUEST.pack(b"OKAY", 0))
        else:
            writer.abandon()
            _fail(self._stream, error)

    def _receive_file(self, writer: _FileWriter, error: str | None) -> str | None:
        """Take DATA chunks until DONE; returns the first error (later data is read and dropped)."""
        while True:
            chunk_id, value = _REQUEST.unpack(self._reader.read_exactly(_REQUEST.size))
            if chunk_id == b"DATA":
                if value > MAX_DATA_CHUNK_BYTES:
                    writer.abandon()
                    _fail(self._stream, f"DATA chunk of {value} bytes exceeds {MAX_DATA_CHUNK_BYTES}")
                    raise StreamClosed("protocol error in SEND")
                data = self._reader.read_exactly(value)
                if error is None:
                    error = writer.write(data)
            elif chunk_id == b"DONE":
                return error or writer.finish(mtime=value)
            else:
                writer.abandon()
                _fail(self._stream, f"unexpected {chunk_id!r} during SEND")
                raise StreamClosed("protocol error in SEND")


class _FileWriter:
    """Writes a pushed file next to its destination and moves it into place on DONE."""

    def __init__(self, storage: DeviceStorage, device_path: str, mode: int):
        self._storage = storage
        self._device_path = device_path
        self._mode = mode
        self._target: Path | None = None
        self._partial: Path | None = None
        self._file: BinaryIO | None = None
        self._free_bytes: int | None = None
        self._written_bytes = 0

    def open(self) -> str | None:
        resolved = self._storage.resolve(self._device_path)
        if not resolved.writable:
            return f"couldn't create file {self._device_path}: Permission denied"
        self._target = resolved.host_path
        try:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            if not self._storage.resolve(self._device_path).writable:  # a parent was a link made meanwhile
                return f"couldn't create file {self._device_path}: Permission denied"
            if self._target.is_dir():
                return f"couldn't create file {self._device_path}: Is a directory"
            self._free_bytes = self._storage.free_bytes(replacing=self._target)
            descriptor, partial = tempfile.mkstemp(prefix=f".{self._target.name}.", suffix=".partial", dir=self._target.parent)
            self._partial = Path(partial)
            self._file = os.fdopen(descriptor, "wb")
        except OSError as error:
            return f"couldn't create file {self._device_path}: {error.strerror or error}"
        return None

    def write(self, data: bytes) -> str | None:
        self._written_bytes += len(data)
        if self._free_bytes is not None and self._written_bytes > self._free_bytes:
            return f"write failed: {os.strerror(errno.ENOSPC)}"
        if self._file is None:
            return None
        try:
            self._file.write(data)
        except OSError as error:
            return f"write failed: {error.strerror or error}"
        return None

    def finish(self, mtime: int) -> str | None:
        try:
            if self._file is None or self._partial is None or self._target is None:
                return f"couldn't finish {self._device_path}: nothing was opened"
            self._file.close()
            os.chmod(self._partial, (self._mode & PUSHED_MODE_BITS) or 0o644)
            os.utime(self._partial, (mtime, mtime))
            os.replace(self._partial, self._target)
            self._partial = None
        except OSError as error:
            return f"couldn't finish {self._device_path}: {error.strerror or error}"
        return None

    def abandon(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._partial is not None:
            try:
                self._partial.unlink()
            except OSError:
                pass
            self._partial = None
