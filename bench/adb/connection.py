"""A connection to one Android device over ADB (adb-shell, no adb server needed): shell, push, pull, stat.

Every failure comes out as a bench.errors exception that says what to do:
unreachable, busy, authentication refused, lost mid-command, timed out, out of storage, transfer failed.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import shlex
import socket
import stat as stat_bits
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from adb_shell import exceptions as adb_errors
from adb_shell.adb_device import AdbDevice
from adb_shell.transport.base_transport import BaseTransport

from bench.adb.keys import load_signer
from bench.adb.quoting import mark_command, quote_argv
from bench.adb.scripts import SECTION_PREFIX
from bench.adb.serials import DeviceSerial, InvalidSerial, SerialKind, parse_serial
from bench.errors import (
    AuthenticationFailed,
    BenchError,
    CommandTimedOut,
    DeviceBusy,
    DeviceCommandFailed,
    DeviceLost,
    DeviceUnreachable,
    TransferFailed,
    TransferOutOfSpace,
)

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_COMMAND_TIMEOUT_S = 60.0
DEFAULT_TRANSFER_TIMEOUT_S = 60.0
_OUT_OF_SPACE = "No space left on device"
_OUTPUT_TAIL_CHARS = 400

ProgressCallback = Callable[[int, int], None]  # (bytes done, total bytes)


@dataclass(frozen=True)
class ShellResult:
    command: str
    exit_code: int
    output: str


@dataclass(frozen=True)
class DeviceStat:
    mode: int
    size_bytes: int
    mtime_s: int

    @property
    def is_dir(self) -> bool:
        return stat_bits.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return stat_bits.S_ISREG(self.mode)

    @property
    def permissions(self) -> int:
        return stat_bits.S_IMODE(self.mode)


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


_TIMEOUTS = (adb_errors.TcpTimeoutException, adb_errors.AdbTimeoutError, TimeoutError)
_NETWORK_ERRNOS = {errno.EBADF, errno.ENOTCONN, errno.ENETDOWN, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EPIPE}
_PROTOCOL_BREAKS = (
    adb_errors.AdbConnectionError,
    adb_errors.InvalidChecksumError,
    adb_errors.InvalidCommandError,
    adb_errors.InvalidResponseError,
    adb_errors.UsbReadFailedError,
    adb_errors.UsbWriteFailedError,
)


def _is_connection_loss(error: BaseException) -> bool:
    """Reset, broken pipe, closed socket, garbled stream; not a local file error."""
    if isinstance(error, _PROTOCOL_BREAKS):
        return True
    return isinstance(error, OSError) and (isinstance(error, ConnectionError) or error.errno in _NETWORK_ERRNOS)


def _usb_available() -> bool:
    return importlib.util.find_spec("usb1") is not None


def _unreachable_message(serial: DeviceSerial, reason: object) -> str:
    return (
        f"no ADB device answered at {serial.text} ({reason}): is the device on and `adb tcpip 5555` done "
        "(or Wi-Fi debugging on)? For tests without a phone, start the loopback device "
        "(python -m loopback --sandbox DIR)"
    )


def _open_adb_device(serial: DeviceSerial, timeout_s: float) -> AdbDevice:
    if serial.kind is SerialKind.LOOPBACK:
        raise InvalidSerial(
            "`loopback` names a device this program starts itself: start loopback.LoopbackDevice "
            "and connect to its .serial (127.0.0.1:PORT)"
        )
    if serial.kind is SerialKind.TCP:
        return AdbDevice(SocketTransport(serial.host, serial.port), default_transport_timeout_s=timeout_s)
    if not _usb_available():
        raise DeviceUnreachable(
            f"{serial.text} looks like a USB serial, but USB support is not installed: use Wi-Fi debugging "
            "(`adb tcpip 5555`, then pass PHONE_IP:5555), or install it with `pip install adb-shell[usb]`"
        )
    from adb_shell.adb_device import AdbDeviceUsb  # needs usb1

    return AdbDeviceUsb(serial=serial.usb_serial, default_transport_timeout_s=timeout_s)


def _connect_failure(serial: DeviceSerial, error: Exception, asked_to_accept: bool) -> BenchError | None:
    """The bench error for a failed connect, or None for an error that is a bug rather than a device state."""
    if isinstance(error, adb_errors.DeviceAuthError):
        return AuthenticationFailed(f"{serial.text} requires a key and none was offered: {error}")
    if type(error).__name__ == "USBErrorBusy":  # usb1's class; usb1 is optional, so it is matched by name
        return DeviceBusy(f"{serial.text} is held by another program, usually the adb server: run `adb kill-server` first")
    if not isinstance(error, (*_TIMEOUTS, *_PROTOCOL_BREAKS, OSError, adb_errors.UsbDeviceNotFoundError)):
        return None
    if asked_to_accept:
        return AuthenticationFailed(
            f"{serial.text} did not accept this computer's key: accept the prompt on the phone "
            '("Allow USB debugging?", tick "Always allow") and connect again'
        )
    return DeviceUnreachable(_unreachable_message(serial, error))


def connect(serial_spec: str | DeviceSerial | None, *, key_path: str | Path | None = None,
            timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> DeviceConnection:
    """Connect to a device (host:port, emulator-N, USB serial; None = ANDROID_SERIAL) and authenticate.

    The ADB key at key_path (default ~/.android/adbkey) is created if none exists.
    """
    serial = serial_spec if isinstance(serial_spec, DeviceSerial) else parse_serial(serial_spec)
    signer = load_signer(key_path)
    connection = DeviceConnection(serial, signer, timeout_s)
    connection.reconnect()
    return connection


class DeviceConnection:
    """An open ADB connection. Calls are serialised; after a timeout the connection is reset and stays usable."""

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
                failure = _connect_failure(self.serial, error, asked_to_accept.is_set())
                if failure is None:
                    raise
                raise failure from error
            self._device = device

    def close(self) -> None:
        with self._lock:
            self._close_device()

    def __enter__(self) -> DeviceConnection:
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
            except _TIMEOUTS:
                raise
            except Exception as error:
                if not _is_connection_loss(error):
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
        """Run a program with arguments (each one quoted) and return its exit code and merged output."""
        return self.shell_text(quote_argv(argv), timeout_s=timeout_s)

    def shell_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """Run an already-composed command line (the caller quotes it).

        timeout_s bounds the whole command and so also how long it may stay silent; past it, CommandTimedOut.
        """
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
        except _TIMEOUTS as error:
            self._reset_after_timeout()
            raise CommandTimedOut(
                f"{self.serial.text} gave no answer to `{command_summary(command)}` within {timeout_s:g} s "
                f"(the command was ended): check that the device is awake and that `adb -s {self.serial.text} "
                "shell echo ok` answers, then run again",
                command=command,
            ) from error
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
        """As shell(), but a non-zero exit code raises DeviceCommandFailed."""
        return _require_success(self.shell(argv, timeout_s=timeout_s), self.serial)

    def check_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """As shell_text(), but a non-zero exit code raises DeviceCommandFailed."""
        return _require_success(self.shell_text(command, timeout_s=timeout_s), self.serial)

    # -- files -------------------------------------------------------------------------------------
    def push(self, local: str | Path, device_path: str, mode: int = 0o644, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat:
        """Copy a local file to the device with the given permissions; returns the pushed file's stat.

        timeout_s is the longest wait for the device at any step, not a bound on the whole transfer.
        """
        local_path = Path(local)
        if not local_path.is_file():
            raise TransferFailed(f"cannot push {local_path}: no such local file")
        total_bytes = local_path.stat().st_size
        try:
            with self._talking(f"push of {local_path.name} to {device_path}") as device:
                device.push(str(local_path), device_path, st_mode=stat_bits.S_IFREG | (mode & 0o7777),
                            progress_callback=_adb_progress(progress),
                            transport_timeout_s=timeout_s, read_timeout_s=timeout_s)
        except (adb_errors.PushFailedError, adb_errors.AdbCommandFailureException) as error:
            raise _transfer_error(f"push of {local_path} to {device_path} failed", error) from error
        except _TIMEOUTS as error:
            self._reset_after_timeout()
            raise TransferFailed(f"push of {local_path} to {device_path}: the device stopped answering for "
                                 f"{timeout_s} s; check it and try again") from error
        pushed = self.stat(device_path)
        if pushed is None or pushed.size_bytes != total_bytes % 2**32:  # sync STAT sizes are 32-bit
            held = "nothing" if pushed is None else f"{pushed.size_bytes} bytes"
            raise TransferFailed(f"push of {local_path} to {device_path}: the device holds {held} instead of "
                                 f"{total_bytes} bytes; push again")
        return pushed

    def pull(self, device_path: str, local: str | Path, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> Path:
        """Copy a device file to a local path (written whole or not at all); returns the local path."""
        local_path = Path(local)
        local_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial_name = tempfile.mkstemp(prefix=f".{local_path.name}.", suffix=".partial", dir=local_path.parent)
        os.close(descriptor)
        try:
            with self._talking(f"pull of {device_path}") as device:
                device.pull(device_path, partial_name, progress_callback=_adb_progress(progress),
                            transport_timeout_s=timeout_s, read_timeout_s=timeout_s)
            os.replace(partial_name, local_path)
        except adb_errors.AdbCommandFailureException as error:
            raise _transfer_error(f"pull of {device_path} failed", error) from error
        except _TIMEOUTS as error:
            self._reset_after_timeout()
            raise TransferFailed(f"pull of {device_path}: the device stopped answering for {timeout_s} s") from error
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial_name)
        return local_path

    def stat(self, device_path: str, *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat | None:
        """The device file's mode, size and mtime, or None when it does not exist (or cannot be seen)."""
        try:
            with self._talking(f"stat of {device_path}") as device:
                mode, size, mtime = device.stat(device_path, transport_timeout_s=timeout_s, read_timeout_s=timeout_s)
        except _TIMEOUTS as error:
            self._reset_after_timeout()
            raise DeviceLost(f"stat of {device_path}: {self.serial.text} stopped answering for {timeout_s} s") from error
        if mode == 0:
            return None
        return DeviceStat(mode=mode, size_bytes=size, mtime_s=mtime)


COMMAND_SUMMARY_CHARS = 60


def command_summary(command: str) -> str:
    """A short, one-line name of a device command for messages: a `sh -c SCRIPT` shows the script's first
    command (its section markers left out), anything longer than COMMAND_SUMMARY_CHARS is cut with `...`."""
    text = command
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if len(words) == 3 and words[:2] == ["sh", "-c"]:
        lines = [line.strip() for line in words[2].splitlines() if line.strip()]
        lines = [line for line in lines if SECTION_PREFIX not in line] or lines or [""]
        text = f"sh -c {lines[0]}" + (" ..." if len(lines) > 1 else "")
    text = " ".join(text.split())
    return text if len(text) <= COMMAND_SUMMARY_CHARS else text[:COMMAND_SUMMARY_CHARS - 3] + "..."


def _require_success(result: ShellResult, serial: DeviceSerial) -> ShellResult:
    if result.exit_code != 0:
        tail = result.output[-_OUTPUT_TAIL_CHARS:].strip()
        raise DeviceCommandFailed(
            f"`{result.command}` failed on {serial.text} with exit code {result.exit_code}"
            + (f": {tail}" if tail else ""),
            command=result.command,
            exit_code=result.exit_code,
            output=result.output,
        )
    return result


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


def _device_message(error: Exception) -> str:
    detail = error.args[0] if error.args else str(error)
    if isinstance(detail, (bytes, bytearray)):
        detail = bytes(detail).decode("utf-8", "replace")
    return str(detail).removeprefix("Command failed: ").strip()


def _transfer_error(what: str, error: Exception) -> TransferFailed:
    message = _device_message(error)
    if _OUT_OF_SPACE in message:
        return TransferOutOfSpace(f"{what}: the device says {message!r}; free space on the device and run again")
    return TransferFailed(f"{what}: the device says {message!r}")
