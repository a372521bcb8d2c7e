"""The server transport: bench.adb.device.Device through the adb server's host protocol, the way the `adb`
command, Android Studio and device labs reach phones (a USB phone held by the server, `adb connect`ed
network devices, a lab's remote server given as --adb-server HOST:PORT).

The adb server keeps its own key (~/.android/adbkey of the user running it); a phone that has not accepted it
is listed as `unauthorized` and this transport says to accept the prompt on the phone. This transport never
starts a server: a server that does not answer is an error naming the address and how to start one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

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
from bench.adb.quoting import mark_command, quote_argv
from bench.adb.scripts import timed_out_message
from bench.adb.serials import DeviceSerial, parse_serial
from bench.adb.transport import host_protocol as hp
from bench.adb.transport.direct import check_pushed_size, partial_file
from bench.adb.transport.direct_errors import transfer_error
from bench.errors import (
    AdbServerUnavailable,
    AuthenticationFailed,
    CommandTimedOut,
    DeviceLost,
    DeviceUnreachable,
    TransferFailed,
)

SERVER = "server"
T = TypeVar("T")


def server_unavailable(address: hp.ServerAddress, reason: object) -> AdbServerUnavailable:
    return AdbServerUnavailable(
        f"no adb server answers at {address.text} ({reason}): start one with `adb -P {address.port} start-server` "
        "(Android Studio runs one on 5037), or name the running one with --adb-server HOST:PORT "
        "(or ANDROID_ADB_SERVER_HOST/ANDROID_ADB_SERVER_PORT)")


def printable(text: str) -> str:
    """A serial the server listed, safe on a terminal line: anything but printable ASCII shown as `?`."""
    return "".join(char if " " <= char <= "~" else "?" for char in text)


def checked_server_version(address: hp.ServerAddress, timeout_s: float) -> int:
    """The server's version; AdbServerUnavailable when none answers or it is too old for this client."""
    try:
        version = hp.server_version(address, timeout_s)
    except (hp.ServerUnavailable, hp.StreamBroken, hp.ExchangeTimedOut, hp.ServerRefused) as error:
        raise server_unavailable(address, error) from error
    if version < hp.MIN_SERVER_VERSION:
        raise AdbServerUnavailable(
            f"the adb server at {address.text} is version {version}, older than {hp.MIN_SERVER_VERSION} which this "
            f"harness needs: update Android's platform-tools, then `adb -P {address.port} kill-server` and start "
            "it again (or use --transport direct)")
    return version


def listed_devices(address: hp.ServerAddress, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> list[hp.ListedDevice]:
    """host:devices-l of the server; AdbServerUnavailable when it does not answer."""
    checked_server_version(address, timeout_s)
    try:
        return hp.list_devices(address, timeout_s)
    except hp.HostProtocolError as error:
        raise server_unavailable(address, error) from error


def check_listed_state(address: hp.ServerAddress, serial: str, devices: list[hp.ListedDevice]) -> hp.ListedDevice:
    """The listing of `serial` when its state is `device`; otherwise the bench error that says what to do."""
    listed = next((device for device in devices if device.serial == serial), None)
    if listed is None:
        seen = ", ".join(printable(device.serial) for device in devices) or "no device"
        raise DeviceUnreachable(
            f"the adb server at {address.text} does not know {serial} (it lists {seen}): plug the phone in, or "
            f"attach a network device with `adb -P {address.port} connect HOST:PORT`, then check "
            f"`adb -P {address.port} devices`")
    if listed.state == "unauthorized":
        raise AuthenticationFailed(
            f"{serial} has not accepted the adb server's key: accept the prompt on the phone (\"Allow USB "
            "debugging?\", tick \"Always allow\"), then run again")
    if listed.state == "offline":
        raise DeviceUnreachable(
            f"{serial} is offline on the adb server at {address.text}: unplug and replug it (or "
            f"`adb -P {address.port} reconnect offline`), wait until `adb devices` shows it as `device`, then run "
            "again")
    if listed.state != "device":
        raise DeviceUnreachable(
            f"{serial} is in state {listed.state!r} on the adb server at {address.text}, not `device`: wait until "
            "it has booted and `adb devices` shows it as `device`, then run again")
    return listed


def connect_through_server(serial_spec: str | DeviceSerial | None, address: hp.ServerAddress, *,
                           timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> ServerDevice:
    serial = serial_spec if isinstance(serial_spec, DeviceSerial) else parse_serial(serial_spec)
    device = ServerDevice(serial, address, timeout_s)
    device.reconnect()
    return device


class ServerDevice:
    """One device the adb server at `address` lists. Every call opens its own server connection (as `adb` does),
    so calls from several threads do not wait for each other; closing is a no-op beyond forgetting the state."""

    def __init__(self, serial: DeviceSerial, address: hp.ServerAddress, timeout_s: float):
        self.serial = serial
        self.address = address
        self._connect_timeout_s = timeout_s
        self._version: int | None = None
        self._shell_v2 = True
        self._lock = threading.Lock()
        self.transport = TransportInfo(kind=SERVER, server=address.text)

    # -- connection --------------------------------------------------------------------------------
    def reconnect(self) -> None:
        version = checked_server_version(self.address, self._connect_timeout_s)
        try:
            devices = hp.list_devices(self.address, self._connect_timeout_s)
        except hp.HostProtocolError as error:
            raise server_unavailable(self.address, error) from error
        check_listed_state(self.address, self.serial.text, devices)
        with self._lock:
            self._version = version
            self.transport = TransportInfo(kind=SERVER, server=self.address.text, server_version=version)

    def close(self) -> None:
        with self._lock:
            self._version = None

    def __enter__(self) -> ServerDevice:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _open(self, service: str, what: str, timeout_s: float) -> hp.ServerSocket:
        """A server connection carrying `service` on this device; DeviceLost when the server no longer has it."""
        if self._version is None:
            raise DeviceLost(f"not connected to {self.serial.text}: call reconnect() once the device is back")
        try:
            return hp.open_device_service(self.address, self.serial.text, service, timeout_s,
                                          use_tport=self._version >= hp.TPORT_MIN_VERSION)
        except hp.ServerRefused as error:
            if error.request == service:
                raise  # the device refused the service itself; the caller decides
            self.close()
            raise DeviceLost(f"the adb server at {self.address.text} lost {self.serial.text} before {what} "
                             f"({error.message}): check the cable or network, then run again") from error
        except hp.ServerUnavailable as error:
            self.close()
            raise DeviceLost(f"the adb server at {self.address.text} went away before {what} ({error}): "
                             "start it again, then run again") from error
        except (hp.StreamBroken, hp.ExchangeTimedOut) as error:
            self.close()
            raise DeviceLost(f"lost the adb server at {self.address.text} during {what} ({error})") from error

    # -- shell -------------------------------------------------------------------------------------
    def shell(self, argv: Sequence[str], *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        return self.shell_text(quote_argv(argv), timeout_s=timeout_s)

    def shell_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        """shell v2 (the exit code comes in its own packet); a device without it gets v1 and an exit-code marker.
        Past timeout_s the server connection is closed, which ends the command on the device."""
        if self._shell_v2:
            try:
                return self._shell_v2_call(command, timeout_s)
            except hp.ServerRefused:
                self._shell_v2 = False  # a device older than Android 7
        return self._shell_v1_call(command, timeout_s)

    def _shell_v2_call(self, command: str, timeout_s: float) -> ShellResult:
        output = bytearray()
        server = self._open(f"shell,v2,raw:{command}", f"`{command}`", timeout_s)
        try:
            server.set_deadline(timeout_s)
            server.send(hp.shell_v2_packet(hp.SHELL_CLOSE_STDIN))
            exit_code = hp.read_shell_v2(server, output.extend)
        except hp.ExchangeTimedOut as error:
            raise CommandTimedOut(timed_out_message(self.serial, command, timeout_s), command=command) from error
        except hp.StreamBroken as error:
            raise self._lost_during(f"`{command}`", error) from error
        finally:
            server.close()
        if exit_code is None:
            raise DeviceLost(f"`{command}` on {self.serial.text} ended without reporting its exit status (the shell "
                             "was cut off); reconnect and run again")
        return ShellResult(command=command, exit_code=exit_code, output=output.decode("utf-8", "replace"))

    def _shell_v1_call(self, command: str, timeout_s: float) -> ShellResult:
        marked = mark_command(command)
        output = bytearray()
        server = self._open(f"shell:{marked.wire_command}", f"`{command}`", timeout_s)
        try:
            server.set_deadline(timeout_s)
            hp.read_shell_v1(server, output.extend)
        except hp.ExchangeTimedOut as error:
            raise CommandTimedOut(timed_out_message(self.serial, command, timeout_s), command=command) from error
        finally:
            server.close()
        parsed = marked.parse(output.decode("utf-8", "replace"))
        if parsed is None:
            raise DeviceLost(f"`{command}` on {self.serial.text} ended without reporting its exit status (the shell "
                             "was cut off); reconnect and run again")
        return ShellResult(command=command, exit_code=parsed[0], output=parsed[1])

    def check(self, argv: Sequence[str], *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        return require_success(self.shell(argv, timeout_s=timeout_s), self.serial)

    def check_text(self, command: str, *, timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S) -> ShellResult:
        return require_success(self.shell_text(command, timeout_s=timeout_s), self.serial)

    def _lost_during(self, what: str, error: Exception) -> DeviceLost:
        return DeviceLost(f"lost {self.serial.text} (through the adb server at {self.address.text}) during {what} "
                          f"({error}): check the cable or network, then run again")

    # -- files -------------------------------------------------------------------------------------
    def _sync(self, what: str, timeout_s: float, exchange: Callable[[hp.ServerSocket], T]) -> T:
        server = self._open("sync:", what, timeout_s)
        try:
            server.set_deadline(timeout_s)
            result = exchange(server)
            hp.sync_quit(server)
            return result
        finally:
            server.close()

    def push(self, local: str | Path, device_path: str, mode: int = 0o644, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat:
        """timeout_s is the longest wait for the device at any step, not a bound on the whole transfer."""
        local_path = Path(local)
        if not local_path.is_file():
            raise TransferFailed(f"cannot push {local_path}: no such local file")
        total_bytes = local_path.stat().st_size
        what = f"push of {local_path} to {device_path}"
        done = 0

        def on_chunk(size: int) -> None:
            nonlocal done
            done += size
            if progress is not None:
                progress(done, total_bytes)

        def send(server: hp.ServerSocket) -> DeviceStat | None:
            with open(local_path, "rb") as source:
                hp.sync_send(server, source, device_path, 0o100000 | (mode & 0o7777), int(time.time()), timeout_s,
                             on_chunk)
            server.set_deadline(timeout_s)
            mode_bits, size, mtime = hp.sync_stat(server, device_path)
            return DeviceStat(mode_bits, size, mtime) if mode_bits else None

        try:
            pushed = self._sync(what, timeout_s, send)
        except hp.SyncRefused as error:
            raise transfer_error(f"{what} failed", str(error)) from error
        except hp.ExchangeTimedOut as error:
            raise TransferFailed(f"{what}: the device stopped answering for {timeout_s} s; check it and try "
                                 "again") from error
        except hp.StreamBroken as error:
            raise self._lost_during(what, error) from error
        return check_pushed_size(pushed, local_path, device_path, total_bytes)

    def pull(self, device_path: str, local: str | Path, progress: ProgressCallback | None = None,
             *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> Path:
        local_path = Path(local)
        what = f"pull of {device_path}"
        with partial_file(local_path) as partial_name, open(partial_name, "wb") as handle:
            done = 0

            def write(data: bytes) -> None:
                nonlocal done
                handle.write(data)
                done += len(data)
                if progress is not None:
                    progress(done, 0)

            def receive(server: hp.ServerSocket) -> None:
                hp.sync_receive(server, device_path, write)

            try:
                self._sync(what, timeout_s, receive)
            except hp.SyncRefused as error:
                raise transfer_error(f"{what} failed", str(error)) from error
            except hp.ExchangeTimedOut as error:
                raise TransferFailed(f"{what}: the device stopped answering for {timeout_s} s") from error
            except hp.StreamBroken as error:
                raise self._lost_during(what, error) from error
            handle.flush()
        return local_path

    def stat(self, device_path: str, *, timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> DeviceStat | None:
        what = f"stat of {device_path}"
        try:
            mode, size, mtime = self._sync(what, timeout_s, lambda server: hp.sync_stat(server, device_path))
        except hp.ExchangeTimedOut as error:
            raise DeviceLost(f"{what}: {self.serial.text} stopped answering for {timeout_s} s") from error
        except hp.StreamBroken as error:
            raise self._lost_during(what, error) from error
        return DeviceStat(mode=mode, size_bytes=size, mtime_s=mtime) if mode else None
