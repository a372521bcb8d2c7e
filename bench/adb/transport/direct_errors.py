"""adb-shell's, libusb's and the socket's exceptions, translated into bench.errors that say what to do."""

from __future__ import annotations

import errno

from adb_shell import exceptions as adb_errors

from bench.adb.device import OUT_OF_SPACE
from bench.adb.serials import DeviceSerial
from bench.errors import (
    AuthenticationFailed,
    BenchError,
    DeviceBusy,
    DeviceUnreachable,
    TransferFailed,
    TransferOutOfSpace,
)

TIMEOUTS = (adb_errors.TcpTimeoutException, adb_errors.AdbTimeoutError, TimeoutError)
_NETWORK_ERRNOS = {errno.EBADF, errno.ENOTCONN, errno.ENETDOWN, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EPIPE}
PROTOCOL_BREAKS = (
    adb_errors.AdbConnectionError,
    adb_errors.InvalidChecksumError,
    adb_errors.InvalidCommandError,
    adb_errors.InvalidResponseError,
    adb_errors.UsbReadFailedError,
    adb_errors.UsbWriteFailedError,
)
TRANSFER_REFUSALS = (adb_errors.PushFailedError, adb_errors.AdbCommandFailureException)


def is_connection_loss(error: BaseException) -> bool:
    """Reset, broken pipe, closed socket, garbled stream; not a local file error."""
    if isinstance(error, PROTOCOL_BREAKS):
        return True
    return isinstance(error, OSError) and (isinstance(error, ConnectionError) or error.errno in _NETWORK_ERRNOS)


def unreachable_message(serial: DeviceSerial, reason: object) -> str:
    return (
        f"no ADB device answered at {serial.text} ({reason}): is the device on and `adb tcpip 5555` done "
        "(or Wi-Fi debugging on)? For tests without a phone, start the loopback device "
        "(python -m loopback --sandbox DIR)"
    )


def connect_failure(serial: DeviceSerial, error: Exception, asked_to_accept: bool) -> BenchError | None:
    """The bench error for a failed connect, or None for an error that is a bug rather than a device state."""
    if isinstance(error, adb_errors.DeviceAuthError):
        return AuthenticationFailed(f"{serial.text} requires a key and none was offered: {error}")
    if type(error).__name__ == "USBErrorBusy":  # usb1's class; usb1 is optional, so it is matched by name
        return DeviceBusy(f"{serial.text} is held by another program, usually the adb server: reach it through "
                          "the server (--transport server), or run `adb kill-server` first")
    if not isinstance(error, (*TIMEOUTS, *PROTOCOL_BREAKS, OSError, adb_errors.UsbDeviceNotFoundError)):
        return None
    if asked_to_accept:
        return AuthenticationFailed(
            f"{serial.text} did not accept this computer's key: accept the prompt on the phone "
            '("Allow USB debugging?", tick "Always allow") and connect again'
        )
    return DeviceUnreachable(unreachable_message(serial, error))


def device_message(error: Exception) -> str:
    detail = error.args[0] if error.args else str(error)
    if isinstance(detail, (bytes, bytearray)):
        detail = bytes(detail).decode("utf-8", "replace")
    return str(detail).removeprefix("Command failed: ").strip()


def transfer_error(what: str, message: str) -> TransferFailed:
    """TransferOutOfSpace when the device says it is full, else TransferFailed quoting the device."""
    if OUT_OF_SPACE in message:
        return TransferOutOfSpace(f"{what}: the device says {message!r}; free space on the device and run again")
    return TransferFailed(f"{what}: the device says {message!r}")
