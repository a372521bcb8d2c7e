"""The device contract: what every transport (bench.adb.transport.*) offers and every caller types against.

A transport is one way of reaching a device: ``direct`` (adb-shell speaks the device's own ADB protocol over
TCP or USB; no adb server) or ``server`` (the adb server's host protocol, as the `adb` command, Android Studio and
device labs use it). Both return the same results and raise the same bench.errors, listed per method below, so
that the sweep, deploy, device facts, the device lock, the cloud stage and the scripts never know which one
they hold.
"""

from __future__ import annotations

import stat as stat_bits
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from bench.adb.serials import DeviceSerial
from bench.errors import DeviceCommandFailed

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_COMMAND_TIMEOUT_S = 60.0
DEFAULT_TRANSFER_TIMEOUT_S = 60.0
OUTPUT_TAIL_CHARS = 400
OUT_OF_SPACE = "No space left on device"

ProgressCallback = Callable[[int, int], None]  # (bytes done, total bytes)


@dataclass(frozen=True)
class ShellResult:
    command: str
    exit_code: int
    output: str  # stdout and stderr, merged in the order they came


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


@dataclass(frozen=True)
class TransportInfo:
    """How a device was reached: ``kind`` is "direct" or "server"; ``server`` is the adb server's HOST:PORT."""

    kind: str
    server: str | None = None
    server_version: int | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "server": self.server, "server_version": self.server_version}


@runtime_checkable
class Device(Protocol):
    """An open connection to one device. Calls are serialised; after a timeout the device stays usable.

    Errors (all bench.errors): DeviceUnreachable (nothing answers; also the adb server is not running or does
    not list the serial), AuthenticationFailed (key refused, or the phone's prompt not accepted), DeviceBusy
    (another program holds it), DeviceLost (the connection broke mid-call: reconnect() once it is back),
    CommandTimedOut (a command outlived its timeout; it was ended), DeviceCommandFailed (check*: non-zero exit),
    TransferFailed / TransferOutOfSpace (push or pull did not complete).
    """

    serial: DeviceSerial
    transport: TransportInfo

    def shell(self, argv: Sequence[str], *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """Run a program with arguments (each one quoted); its exit code and merged output.
        Raises DeviceLost, CommandTimedOut."""
        ...

    def shell_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """Run an already-quoted command line. Raises DeviceLost, CommandTimedOut."""
        ...

    def check(self, argv: Sequence[str], *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """As shell(), and DeviceCommandFailed on a non-zero exit code."""
        ...

    def check_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """As shell_text(), and DeviceCommandFailed on a non-zero exit code."""
        ...

    def push(self, local: str | Path, device_path: str, mode: int = 0o644, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat:
        """Copy a local file to the device (size checked afterwards). Raises TransferFailed, TransferOutOfSpace,
        DeviceLost."""
        ...

    def pull(self, device_path: str, local: str | Path, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> Path:
        """Copy a device file to a local path, written whole or not at all. Raises TransferFailed, DeviceLost."""
        ...

    def stat(self, device_path: str, *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat | None:
        """Mode, size, mtime; None when the file does not exist. Raises DeviceLost."""
        ...

    def reconnect(self) -> None:
        """(Re)open the connection. Raises DeviceUnreachable, AuthenticationFailed, DeviceBusy."""
        ...

    def close(self) -> None:
        """Close the connection; never raises."""
        ...

    def __enter__(self) -> Device:
        """The open device itself; leaving the block closes it."""
        ...

    def __exit__(self, *_exc: object) -> None:
        ...


def require_success(result: ShellResult, serial: DeviceSerial) -> ShellResult:
    """The result itself, or DeviceCommandFailed (with the output's tail) when its exit code is not 0."""
    if result.exit_code != 0:
        tail = result.output[-OUTPUT_TAIL_CHARS:].strip()
        raise DeviceCommandFailed(
            f"`{result.command}` failed on {serial.text} with exit code {result.exit_code}"
            + (f": {tail}" if tail else ""),
            command=result.command,
            exit_code=result.exit_code,
            output=result.output,
        )
    return result
