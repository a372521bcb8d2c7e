"""LoopbackDevice: a process-local ADB device on 127.0.0.1 that runs commands on this host in a sandbox folder."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from loopback import wire
from loopback.abi_mode import (
    ARM64_MACHINE,
    EMULATED_KERNEL_OS,
    arm64_properties,
    check_arm64_emulation,
    emulated_abi,
)
from loopback.accepted_keys import AcceptedKeys
from loopback.connection import DEFAULT_MAX_STREAMS, AuthPolicy, Connection
from loopback.errors import LoopbackDeviceError
from loopback.faults import FaultCounters, FaultPlan
from loopback.host_properties import host_properties
from loopback.peer_uid import peer_uid
from loopback.services import service_runner
from loopback.shell_service import ProcessRegistry, ShellEnvironment
from loopback.shims import write_shims
from loopback.storage import DeviceStorage, sandbox_path_is_safe

DEVICE_FEATURES = ("shell_v2", "cmd")
DEFAULT_MAX_CONNECTIONS = 16
DEFAULT_IDLE_TIMEOUT_S = 300.0
_ACCEPT_POLL_S = 0.2
_OWNER = object()  # allowed_uid default: the uid of this process


def is_loopback_host(host: str) -> bool:
    """True when every IPv4 address `host` names is in 127.0.0.0/8."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, socket.AF_INET)}
    except (socket.gaierror, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(address).is_loopback for address in addresses)


def device_banner(properties: dict[str, str]) -> str:
    identity = ";".join(f"{key}={properties[key]}" for key in ("ro.product.name", "ro.product.model", "ro.product.device"))
    return f"device::{identity};features={','.join(DEVICE_FEATURES)}"


class LoopbackDevice:
    """An ADB device (device side of the protocol) listening on host:port.

    /data/local/tmp on the device is `sandbox_dir`; shell commands run here with `sh -c`, with a `getprop`
    that reports this host's facts. Use as a context manager, or call start() and stop().

    Who may connect: a peer on this host must run as `allowed_uid` (default: this process's uid; None lets
    any local user in), checked on the peer's socket before anything is read from it; peers on other
    machines are only possible with auth_required (listening beyond 127.0.0.0/8 needs it, with a fixed key
    list); letting any local user in needs the same fixed key list. At most `max_connections` at once (a
    further one is closed at once); a connection with no open stream that sends nothing for `idle_timeout_s` is
    closed, and one whose message does not arrive whole within `message_deadline_s` of its first byte too. At
    most `max_streams_per_connection` streams run at once per connection (loopback.connection).

    abi: None (or this host's own ABI) runs as today; "arm64-v8a" makes an emulated Android arm64 phone
    (loopback.abi_mode), which needs qemu-aarch64 registered with binfmt_misc.
    state_dir_parent: where the device's own temporary state folder (shims) goes (default: the system's).
    """

    def __init__(
        self,
        sandbox_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        auth_required: bool = False,
        adb_keys_path: str | Path | None = None,
        storage_quota_bytes: int | None = None,
        *,
        accept_new_keys: bool = False,
        faults: FaultPlan | None = None,
        allowed_uid: int | None | object = _OWNER,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S,
        abi: str | None = None,
        state_dir_parent: str | Path | None = None,
        message_deadline_s: float | None = wire.MESSAGE_DEADLINE_S,
        max_streams_per_connection: int = DEFAULT_MAX_STREAMS,
    ):
        self._sandbox = Path(sandbox_dir).absolute()
        self._host = host
        self._requested_port = port
        self._auth_required = auth_required
        self._adb_keys_path = Path(adb_keys_path) if adb_keys_path is not None else None
        self._accept_new_keys = accept_new_keys
        self.storage_quota_bytes = storage_quota_bytes
        self.faults = FaultCounters(faults or FaultPlan())
        self._allowed_uid = os.getuid() if allowed_uid is _OWNER else allowed_uid
        self._max_connections = max_connections
        self._idle_timeout_s = idle_timeout_s
        self._abi = abi
        self._message_deadline_s = message_deadline_s
        self._max_streams_per_connection = max_streams_per_connection
        self.refused_peers = 0  # connections closed by the uid check or the connection cap
        self._port: int | None = None
        self._listener: socket.socket | None = None
        self._listener_lock = threading.Lock()
        self._connections: set[Connection] = set()
        self._connections_lock = threading.Lock()
        self._processes = ProcessRegistry()
        self._state_dir: Path | None = None
        self._state_dir_parent = Path(state_dir_parent) if state_dir_parent is not None else None
        self._stopping = threading.Event()
        self._refuse_until = 0.0
        self._accept_thread: threading.Thread | None = None
        self._environment: ShellEnvironment | None = None
        self._auth: AuthPolicy | None = None
        self._banner = ""

    # -- life cycle -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise LoopbackDeviceError("the loopback device is not started; call start() or use it in a with block")
        return self._port

    @property
    def serial(self) -> str:
        return f"{self._host}:{self.port}"

    @property
    def sandbox(self) -> Path:
        return self._sandbox

    def start(self) -> LoopbackDevice:
        if self._accept_thread is not None:
            return self
        self._prepare()
        try:
            self._listener = self._listen(self._requested_port)
        except LoopbackDeviceError:
            self._remove_state_dir()
            raise
        self._port = self._listener.getsockname()[1]
        self._stopping.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="loopback-adb-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close_listener()
        self.drop_connections()
        self._processes.kill_all()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
            self._accept_thread = None
        self._remove_state_dir()

    def __enter__(self) -> LoopbackDevice:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- fault injection ---------------------------------------------------------------------------
    def drop_connections(self) -> None:
        """Cut every open connection now, as if the cable were pulled or Wi-Fi went away."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            connection.drop()

    def refuse_connections(self, duration_s: float) -> None:
        """Vanish for a while: drop open connections and refuse new ones (connection refused) for duration_s."""
        with self._listener_lock:
            self._refuse_until = time.monotonic() + duration_s
        self._close_listener()
        self.drop_connections()

    @property
    def connection_count(self) -> int:
        with self._connections_lock:
            return len(self._connections)

    # -- internals -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        """Check the settings, then make the sandbox and the shims (in a state folder removed by stop())."""
        if not sandbox_path_is_safe(self._sandbox):
            raise LoopbackDeviceError(
                f"sandbox path {self._sandbox} has characters a shell would split or expand; "
                "choose a folder whose path has no spaces, quotes or $"
            )
        if self.storage_quota_bytes is not None and self.storage_quota_bytes < 0:
            raise LoopbackDeviceError(f"storage quota of {self.storage_quota_bytes} bytes: give 0 or more bytes")
        if self._max_connections < 1:
            raise LoopbackDeviceError(f"a cap of {self._max_connections} connections: give 1 or more")
        if self._idle_timeout_s is not None and self._idle_timeout_s <= 0:
            raise LoopbackDeviceError(f"an idle timeout of {self._idle_timeout_s} s: give more than 0 s (or None for none)")
        if self._allowed_uid is None and (not self._auth_required or self._accept_new_keys):
            raise LoopbackDeviceError(
                "letting any local user connect (--any-local-user) without a fixed key list would hand every user "
                "of this host a shell as this user: add --auth --adb-keys FILE (without --accept-new-keys)"
            )
        if self._max_streams_per_connection < 1:
            raise LoopbackDeviceError(f"a cap of {self._max_streams_per_connection} streams per connection: give 1 or more")
        if not is_loopback_host(self._host) and (not self._auth_required or self._accept_new_keys):
            raise LoopbackDeviceError(
                f"listening on {self._host} (beyond 127.0.0.0/8) would let other machines run commands on this host: "
                "turn on auth with a fixed key list (--auth --adb-keys FILE, without --accept-new-keys), "
                "or listen on 127.0.0.1"
            )
        self._auth = AuthPolicy(self._auth_required, self._accept_new_keys, self._accepted_keys())
        try:
            self._sandbox.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LoopbackDeviceError(f"cannot create the sandbox folder {self._sandbox}: {error.strerror}") from error
        emulated = emulated_abi(self._abi)
        properties = host_properties()
        uname = None
        if emulated is not None:
            check_arm64_emulation()
            properties = arm64_properties(properties)
            uname = (ARM64_MACHINE, EMULATED_KERNEL_OS)
        self._banner = device_banner(properties)
        self._state_dir = Path(tempfile.mkdtemp(prefix="splitbench-loopback-state-", dir=self._state_dir_parent))
        shim_dir = self._state_dir / "bin"
        write_shims(shim_dir, properties, self._sandbox, self.storage_quota_bytes, uname=uname)
        storage = DeviceStorage(self._sandbox, self.storage_quota_bytes)
        self._environment = ShellEnvironment(storage=storage, shim_dir=shim_dir, processes=self._processes)

    def _accepted_keys(self) -> AcceptedKeys:
        if self._auth_required and not self._accept_new_keys:
            if self._adb_keys_path is None:
                raise LoopbackDeviceError(
                    "auth is required but no key can ever be accepted; give adb_keys_path (--adb-keys) or accept_new_keys (--accept-new-keys)"
                )
            if not self._adb_keys_path.is_file():
                raise LoopbackDeviceError(
                    f"accepted-keys file {self._adb_keys_path} does not exist; copy a host's adbkey.pub there "
                    "or turn on accept_new_keys (--accept-new-keys)"
                )
        return AcceptedKeys(self._adb_keys_path)

    def _remove_state_dir(self) -> None:
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self._host, port))
        except OSError as error:
            listener.close()
            raise LoopbackDeviceError(
                f"cannot listen on {self._host}:{port}: {error.strerror}; pick another port (or 0 for any free one)"
            ) from error
        listener.listen(16)
        listener.settimeout(_ACCEPT_POLL_S)
        return listener

    def _close_listener(self) -> None:
        with self._listener_lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop now, not at its next poll
            except OSError:
                pass
            listener.close()

    def _accept_loop(self) -> None:
        port, auth, environment = self.port, self._auth, self._environment  # all set by start() before this runs
        assert auth is not None and environment is not None, "start() prepares them before accepting"
        while not self._stopping.is_set():
            with self._listener_lock:
                listener = self._listener
                refusing = time.monotonic() < self._refuse_until
            if listener is None:
                if refusing:
                    time.sleep(_ACCEPT_POLL_S / 4)
                    continue
                try:
                    reopened = self._listen(port)
                except LoopbackDeviceError:
                    time.sleep(_ACCEPT_POLL_S)
                    continue
                with self._listener_lock:
                    if self._stopping.is_set():
                        reopened.close()
                        return
                    self._listener = listener = reopened
            try:
                sock, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                continue  # the listener was closed under us (stop or refuse_connections)
            if not self._admits(sock):
                self.refused_peers += 1
                sock.close()
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(
                sock,
                self._banner,
                auth,
                lambda service: service_runner(service, environment),
                _Hooks(self.faults),
                idle_timeout_s=self._idle_timeout_s,
                message_deadline_s=self._message_deadline_s,
                max_streams=self._max_streams_per_connection,
            )
            with self._connections_lock:
                admitted = len(self._connections) < self._max_connections
                if admitted:
                    self._connections.add(connection)
            if not admitted:
                self.refused_peers += 1
                sock.close()
                continue
            threading.Thread(target=self._serve, args=(connection,), name="loopback-adb-connection", daemon=True).start()

    def _admits(self, sock: socket.socket) -> bool:
        """The peer check, before anything is read: a peer on this host must run as the allowed uid."""
        if self._allowed_uid is None:
            return True
        try:
            uid = peer_uid(sock)
        except OSError:
            return False  # the peer is already gone
        if uid is None:
            # Not a socket of this host: a remote peer, possible only when listening beyond loopback (auth on).
            return not is_loopback_host(self._host)
        return uid == self._allowed_uid

    def _serve(self, connection: Connection) -> None:
        try:
            connection.serve()
        finally:
            with self._connections_lock:
                self._connections.discard(connection)


class _Hooks:
    def __init__(self, counters: FaultCounters):
        self._counters = counters

    def on_open(self) -> bool:
        return self._counters.allow_open()

    def on_bytes_received(self, count: int) -> bool:
        return self._counters.allow_bytes(count)
