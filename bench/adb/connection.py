"""Connecting to one device through the transport asked for: ``direct`` (adb-shell, no adb server), ``server``
(the adb server's host protocol) or ``auto`` (the server when one answers and lists the serial, else direct).

Whatever the transport, the result is a bench.adb.device.Device; the transports live in bench.adb.transport.
"""

from __future__ import annotations

from pathlib import Path

from bench.adb.device import (
    DEFAULT_COMMAND_TIMEOUT_S,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_TRANSFER_TIMEOUT_S,
    Device,
    DeviceStat,
    ProgressCallback,
    ShellResult,
    TransportInfo,
)
from bench.adb.scripts import COMMAND_SUMMARY_CHARS, command_summary
from bench.adb.serials import LOOPBACK_ABIS, DeviceSerial, parse_serial
from bench.adb.transport import host_protocol
from bench.adb.transport.direct import DirectDevice, SocketTransport, connect_direct
from bench.adb.transport.host_protocol import ServerAddress
from bench.adb.transport.server import ServerDevice, connect_through_server
from bench.errors import SettingsError

__all__ = [
    "COMMAND_SUMMARY_CHARS", "DEFAULT_COMMAND_TIMEOUT_S", "DEFAULT_CONNECT_TIMEOUT_S", "DEFAULT_TRANSFER_TIMEOUT_S",
    "TRANSPORTS", "Device", "DeviceConnection", "DeviceStat", "DirectDevice", "ProgressCallback", "ServerAddress",
    "ServerDevice", "ShellResult", "SocketTransport", "TransportInfo", "command_summary", "connect",
    "parse_server_address", "server_lists_serial",
]

TRANSPORTS = ("auto", "server", "direct")
AUTO_PROBE_TIMEOUT_S = 1.0
DeviceConnection = DirectDevice  # the name callers used before there were several transports


def parse_server_address(text: str | None) -> ServerAddress:
    """--adb-server HOST:PORT, or (None) the server `adb` itself would use: ANDROID_ADB_SERVER_HOST/PORT."""
    try:
        return ServerAddress.parse(text) if text else ServerAddress.from_environment()
    except ValueError as error:
        raise SettingsError(f"{error} (from --adb-server or ANDROID_ADB_SERVER_HOST/ANDROID_ADB_SERVER_PORT)") from None


def server_lists_serial(address: ServerAddress, serial: str, timeout_s: float = AUTO_PROBE_TIMEOUT_S) -> bool:
    """Whether an adb server answers at address and lists serial (in any state)."""
    try:
        return any(device.serial == serial for device in host_protocol.list_devices(address, timeout_s))
    except host_protocol.HostProtocolError:
        return False


def resolve_transport(transport: str, serial: DeviceSerial, address: ServerAddress) -> str:
    """"server" or "direct" for `transport` (auto: the server when it answers and lists the serial)."""
    if transport not in TRANSPORTS:
        raise SettingsError(f"--transport {transport!r}: choose one of {', '.join(TRANSPORTS)}")
    if serial.text in LOOPBACK_ABIS:
        if transport == "server":
            raise SettingsError(f"`{serial.text}` starts a device for this run only, reached directly: leave out "
                                "--transport server, or attach a loopback device to the server yourself "
                                "(`adb connect 127.0.0.1:PORT`) and pass that serial")
        return "direct"
    if transport == "auto":
        return "server" if server_lists_serial(address, serial.text) else "direct"
    return transport


def connect(serial_spec: str | DeviceSerial | None, *, key_path: str | Path | None = None,
            timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S, transport: str = "direct",
            server: ServerAddress | None = None) -> Device:
    """Connect to a device (host:port, emulator-N, USB serial; None = ANDROID_SERIAL) through `transport`.

    key_path (default ~/.android/adbkey, created if missing) is the direct transport's key; through the server,
    the server's own key is used."""
    serial = serial_spec if isinstance(serial_spec, DeviceSerial) else parse_serial(serial_spec)
    address = server or ServerAddress.from_environment()
    if resolve_transport(transport, serial, address) == "server":
        return connect_through_server(serial, address, timeout_s=timeout_s)
    return connect_direct(serial, key_path=key_path, timeout_s=timeout_s)
