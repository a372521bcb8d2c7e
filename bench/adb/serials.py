"""What a user may pass as a device serial, parsed into where and how to connect."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum

from bench.errors import BenchError

LOOPBACK_SERIAL = "loopback"
LOOPBACK_ARM64_SERIAL = "loopback-arm64"
# Serials that start a loopback device for the run -> the ABI it has (None = this host's own).
LOOPBACK_ABIS: dict[str, str | None] = {LOOPBACK_SERIAL: None, LOOPBACK_ARM64_SERIAL: "arm64-v8a"}
DEFAULT_ADB_TCP_PORT = 5555
_EMULATOR = re.compile(r"^emulator-(\d+)$")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d+)$")
_USB_SERIAL = re.compile(r"^[A-Za-z0-9._-]+$")


class InvalidSerial(BenchError):
    """The serial is neither host:port, emulator-N, loopback(-arm64) nor a USB serial."""


class SerialKind(Enum):
    TCP = "tcp"
    USB = "usb"
    LOOPBACK = "loopback"


@dataclass(frozen=True)
class DeviceSerial:
    """A parsed serial. For TCP (including emulator-N) host and port are set; for USB, usb_serial is."""

    text: str
    kind: SerialKind
    host: str | None = None
    port: int | None = None
    usb_serial: str | None = None


def _valid_port(port_text: str, serial: str) -> int:
    port = int(port_text)
    if not 0 < port < 65536:
        raise InvalidSerial(f"serial {serial!r} has port {port}; a port is 1-65535")
    return port


def parse_serial(serial: str | None, environ: dict[str, str] | None = None) -> DeviceSerial:
    """Parse host:port, emulator-N (adbd on 127.0.0.1:N+1), `loopback` (or `loopback-arm64`), or a USB serial.

    With no serial, ANDROID_SERIAL is used, as adb does.
    """
    env = dict(os.environ) if environ is None else environ
    text = (serial if serial is not None else env.get("ANDROID_SERIAL", "")).strip()
    if not text:
        raise InvalidSerial(
            "no device serial given and ANDROID_SERIAL is not set; pass --serial HOST:PORT, emulator-5554, "
            "a USB serial, `loopback` or `loopback-arm64`"
        )
    if text in LOOPBACK_ABIS:
        return DeviceSerial(text, SerialKind.LOOPBACK)
    emulator = _EMULATOR.match(text)
    if emulator:
        console_port = int(emulator.group(1))
        return DeviceSerial(text, SerialKind.TCP, host="127.0.0.1", port=_valid_port(str(console_port + 1), text))
    host_port = _HOST_PORT.match(text)
    if host_port:
        host = host_port.group("host").strip("[]")
        return DeviceSerial(text, SerialKind.TCP, host=host, port=_valid_port(host_port.group("port"), text))
    if _USB_SERIAL.match(text):
        return DeviceSerial(text, SerialKind.USB, usb_serial=text)
    raise InvalidSerial(
        f"cannot read serial {text!r}; use HOST:PORT (e.g. 192.168.1.20:5555), emulator-5554, a USB serial "
        "from `adb devices`, `loopback` or `loopback-arm64`"
    )
