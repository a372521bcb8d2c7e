"""The direct transport: adb-shell speaks the device's own ADB protocol over TCP (or USB); no adb server.

Right for a device nothing else holds: the loopback device, a phone on Wi-Fi debugging, a CI emulator.
A USB phone that the adb server (Android Studio, scrcpy, `adb`) holds is reached through the server transport.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import stat as stat_bits
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from adb_shell import exceptions as adb_errors
from adb_shell.adb_device import AdbDevice
from adb_shell.transport.base_transport import BaseTransport

from bench.adb.device import (
    DEFAULT_COMMAND_TIMEOUT_S,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_TRANSFER_TIMEOUT_S,
    DeviceStat,
    ProgressCallback,
    ShellResult,
    TransportInfo,
    require_success,
)
from bench.adb.keys import load_signer
from bench.adb.quoting import mark_command, quote_argv
from bench.adb.scripts import timed_out_message
from bench.adb.serials import DeviceSerial, InvalidSerial, SerialKind, parse_serial
from bench.adb.transport.direct_errors import (
    TIMEOUTS,
    TRANSFER_REFUSALS,
    connect_failure,
    device_message,
    is_connection_loss,
    transfer_error,
)
from bench.errors import (
    AuthenticationFailed,
    CommandTimedOut,
    DeviceBusy,
    DeviceLost,
    DeviceUnreachable,
    TransferFailed,
)

DIRECT = TransportInfo(kind="direct")


class SocketTransport(BaseTransport):
    """TCP transport for adb-shell that notices a closed connection at once and never sends half a message.

    (adb-shell's own TCP transport spins until its read timeout when the peer closes, and ignores short sends.)
    """

    def __init__(self, host: str, port: int):
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None

    def connect(self, transport_timeout_s):
        self._socket = socket.create_connection((self._host, self._port), timeout=transport_timeout_s)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()
            self._socket = None

    def _open_socket(self) -> socket.socket:
        if self._socket is None:
            raise ConnectionResetError(f"not connected to {self._host}:{self._port}")
        return self._socket

    def bulk_read(self, numbytes, transport_timeout_s):
        sock = self._open_socket()
        sock.settimeout(transport_timeout_s)
        try:
            data = sock.recv(numbytes)
        except TimeoutError as error:
            raise adb_errors.TcpTimeoutException(
                f"reading from {self._host}:{self._port} timed out ({transport_timeout_s} s)"
            ) from error
        if not data:
            raise ConnectionResetError(f"{self._host}:{self._port} closed the connection")
        return data

    def bulk_write(self, data, transport_timeout_s):
        sock = self._open_socket()
        sock.settimeout(transport_timeout_s)
        try:
            sock.sendall(data)
        except TimeoutError as error:
            raise adb_errors.TcpTimeoutException(
                f"writing to {self._host}:{self._port} timed out ({transport_timeout_s} s)"
            ) from error
        return len(data)


def _usb_available() -> bool:
    return importlib.util.find_spec("usb1") is not None


def _open_adb_device(serial: DeviceSerial, timeout_s: float) -> AdbDevice:
    if serial.kind is SerialKind.LOOPBACK:
        raise InvalidSerial(
            "`loopback` names a device this program starts itself: start loopback.LoopbackDevice "
            "and connect to its .serial (127.0.0.1:PORT)"
        )
    if serial.kind is SerialKind.TCP:
        assert serial.host is not None and serial.port is not None
        return AdbDevice(SocketTransport(serial.host, serial.port), default_transport_timeout_s=timeout_s)
    if not _usb_available():
        raise DeviceUnreachable(
            f"{serial.text} looks like a USB serial, but USB support is not installed: reach the phone through the "
            "adb server (--transport server; Android Studio or `adb start-server` runs one), use Wi-Fi debugging "
            "(`adb tcpip 5555`, then pass PHONE_IP:5555), or install it with `pip install adb-shell[usb]`"
        )
    from adb_shell.adb_device import AdbDeviceUsb  # needs usb1

    return AdbDeviceUsb(serial=serial.usb_serial, default_transport_timeout_s=timeout_s)


def connect_direct(serial_spec: str | DeviceSerial | None, *, key_path: str | Path | None = None,
                   timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> DirectDevice:
    """Connect to a device (host:port, emulator-N, USB serial; None = ANDROID_SERIAL) and authenticate.

    The ADB key at key_path (default ~/.android/adbkey) is created if none exists.
    """
    serial = serial_spec if isinstance(serial_spec, DeviceSerial) else parse_serial(serial_spec)
    signer = load_signer(key_path)
    connection = DirectDevice(serial, signer, timeout_s)
    connection.reconnect()
    return connection


class DirectDevice:
    """bench.adb.device.Device over adb-shell. After a timeout the connection is reset and stays usable."""

    transport = DIRECT

    def __init__(self, serial: DeviceSerial, signer, timeout_s: float):
        self.serial = serial
        self._signer = signer
        self._connect_timeout_s = timeout_s
        self._device: AdbDevice | None = None
        self._lock = threading.RLock()

    # -- connection --------------------------------------------------------------------------------
    def reconnect(self) -> None:
        """(Re)open the connection: after DeviceLost, once the device is back."""
        with self._lock:
            self._close_device()
            device = _open_adb_device(self.serial, self._connect_timeout_s)
            asked_to_accept = threading.Event()
            try:
                device.connect(
                    rsa_keys=[self._signer],
                    transport_timeout_s=self._connect_timeout_s,
                    auth_timeout_s=self._connect_timeout_s,
                    read_timeout_s=self._connect_timeout_s,
                    auth_callback=lambda _device: asked_to_accept.set(),
                )
            except Exception as error:  # adb-shell, socket and (over USB) libusb errors
                device.close()
                failure = connect_failure(self.serial, error, asked_to_accept.is_set())
                if failure is None:
                    raise
                raise failure from error
            self._device = device

    def close(self) -> None:
        with self._lock:
            self._close_device()

    def __enter__(self) -> DirectDevice:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _close_device(self) -> None:
        if self._device is not None:
            with contextlib.suppress(Exception):
                self._device.close()
            self._device = None

    def _connected(self) -> AdbDevice:
        if self._device is None:
            raise DeviceLost(f"not connected to {self.serial.text}: call reconnect() once the device is back")
        return self._device

    @contextlib.contextmanager
    def _talking(self, what: str) -> Iterator[AdbDevice]:
        """Run one exchange; a broken connection becomes DeviceLost (and is closed). Timeouts pass through."""
        with self._lock:
            device = self._connected()
            try:
                yield device
            except TIMEOUTS:
                raise
            except Exception as error:
                if not is_connection_loss(error):
                    raise
                self._close_device()
                raise DeviceLost(
                    f"lost the connection to {self.serial.text} during {what} ({error}): check the cable or "
                    "Wi-Fi, then reconnect and run again"
                ) from error

    def _reset_after_timeout(self) -> None:
        """Closing the connection ends the timed-out command on the device; then connect afresh."""
        with self._lock:
            self._close_device()
            with contextlib.suppress(DeviceUnreachable, AuthenticationFailed, DeviceBusy):
                self.reconnect()  # if this fails, the next call says DeviceLost and what to do

    # -- shell -------------------------------------------------------------------------------------
    def shell(self, argv: Sequence[str], *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        return self.shell_text(quote_argv(argv), timeout_s=timeout_s)

    def shell_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """timeout_s bounds the whole command and so also how long it may stay silent; past it, CommandTimedOut.

        adb-shell speaks shell v1 only (no exit code): the command is marked to print its own."""
        marked = mark_command(command)
        try:
            with self._talking(f"`{command}`") as device:
                output = device.shell(
                    marked.wire_command,
                    transport_timeout_s=timeout_s,
                    read_timeout_s=timeout_s,
                    timeout_s=timeout_s,
                    decode=True,
                )
        except TIMEOUTS as error:
            self._reset_after_timeout()
            raise CommandTimedOut(timed_out_message(self.serial, command, timeout_s), command=command) from error
        parsed = marked.parse(output)
        if parsed is None:
            self.close()
            raise DeviceLost(
                f"`{command}` on {self.serial.text} ended without reporting its exit status (the shell was cut off); "
                "reconnect and run again"
            )
        exit_code, command_output = parsed
        return ShellResult(command=command, exit_code=exit_code, output=command_output)

    def check(self, argv: Sequence[str], *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        return require_success(self.shell(argv, timeout_s=timeout_s), self.serial)

    def check_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        return require_success(self.shell_text(command, timeout_s=timeout_s), self.serial)

    # -- files -------------------------------------------------------------------------------------
    def push(self, local: str | Path, device_path: str, mode: int = 0o644, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat:
        """timeout_s is the longest wait for the device at any step, not a bound on the whole transfer."""
        local_path = Path(local)
        if not local_path.is_file():
            raise TransferFailed(f"cannot push {local_path}: no such local file")
        total_bytes = local_path.stat().st_size
        try:
            with self._talking(f"push of {local_path.name} to {device_path}") as device:
                device.push(str(local_path), device_path, st_mode=stat_bits.S_IFREG | (mode & 0o7777),
                            progress_callback=_adb_progress(progress),
                            transport_timeout_s=timeout_s, read_timeout_s=timeout_s)
        except TRANSFER_REFUSALS as error:
            raise transfer_error(f"push of {local_path} to {device_path} failed", device_message(error)) from error
        except TIMEOUTS as error:
            self._reset_after_timeout()
            raise TransferFailed(f"push of {local_path} to {device_path}: the device stopped answering for "
                                 f"{timeout_s} s; check it and try again") from error
        return check_pushed_size(self.stat(device_path), local_path, device_path, total_bytes)

    def pull(self, device_path: str, local: str | Path, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> Path:
        local_path = Path(local)
        with partial_file(local_path) as partial_name:
            try:
                with self._talking(f"pull of {device_path}") as device:
                    device.pull(device_path, partial_name, progress_callback=_adb_progress(progress),
                                transport_timeout_s=timeout_s, read_timeout_s=timeout_s)
            except adb_errors.AdbCommandFailureException as error:
                raise transfer_error(f"pull of {device_path} failed", device_message(error)) from error
            except TIMEOUTS as error:
                self._reset_after_timeout()
                raise TransferFailed(f"pull of {device_path}: the device stopped answering for {timeout_s} s") from error
        return local_path

    def stat(self, device_path: str, *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat | None:
        try:
            with self._talking(f"stat of {device_path}") as device:
                mode, size, mtime = device.stat(device_path, transport_timeout_s=timeout_s, read_timeout_s=timeout_s)
        except TIMEOUTS as error:
            self._reset_after_timeout()
            raise DeviceLost(f"stat of {device_path}: {self.serial.text} stopped answering for {timeout_s} s") from error
        if mode == 0:
            return None
        return DeviceStat(mode=mode, size_bytes=size, mtime_s=mtime)


def check_pushed_size(pushed: DeviceStat | None, local_path: Path, device_path: str, total_bytes: int) -> DeviceStat:
    """The pushed file's stat, or TransferFailed when the device holds something else than what was sent."""
    if pushed is None or pushed.size_bytes != total_bytes % 2**32:  # sync STAT sizes are 32-bit
        held = "nothing" if pushed is None else f"{pushed.size_bytes} bytes"
        raise TransferFailed(f"push of {local_path} to {device_path}: the device holds {held} instead of "
                             f"{total_bytes} bytes; push again")
    return pushed


@contextlib.contextmanager
def partial_file(local_path: Path) -> Iterator[str]:
    """A temporary file beside local_path; renamed onto it when the block ends normally, removed otherwise."""
    local_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial_name = tempfile.mkstemp(prefix=f".{local_path.name}.", suffix=".partial", dir=local_path.parent)
    os.close(descriptor)
    try:
        yield partial_name
        os.replace(partial_name, local_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial_name)


def _adb_progress(progress: ProgressCallback | None):
    """adb-shell reports (path, chunk bytes, total bytes); callers get (bytes so far, total bytes)."""
    if progress is None:
        return None
    done = 0

    def report(_path, chunk_bytes, total_bytes):
        nonlocal done
        done += chunk_bytes
        progress(done, total_bytes)

    return report
