"""Turn a --serial value into a way to connect: a real device, or a loopback device started for the run."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.adb.connection import ServerAddress, connect, resolve_transport
from bench.adb.device import Device
from bench.adb.keys import ensure_key_pair
from bench.adb.serials import LOOPBACK_ABIS, LOOPBACK_SERIAL, parse_serial
from bench.errors import LoopbackStartFailed
from bench.host_processes import pid_alive
from loopback import LoopbackDevice
from loopback.errors import LoopbackDeviceError

__all__ = ["LOOPBACK_SERIAL", "device_connector", "loopback_device_for_run"]

RUN_KEY_NAME = "adbkey"
RUN_FOLDER_PREFIX = "splitbench-loopback-run-"
OWNER_LOCK = "owner.lock"


@contextlib.contextmanager
def device_connector(serial_spec: str, key_path: Path | None = None, transport: str = "auto",
                     server: ServerAddress | None = None) -> Iterator[Callable[[], Device]]:
    """Yields ``connect() -> Device``.

    ``loopback`` starts a LoopbackDevice (sandbox in a temporary folder) for the duration
    of the block and stops it afterwards, ``loopback-arm64`` one that is an emulated Android arm64 phone;
    any other value is an adb serial, reached through `transport` (auto is decided once, here, so that every
    reconnection of the run goes the same way).
    The loopback device serves only this run: it accepts only a key pair made for the run (in a private
    temporary folder, private key 0600; key_path is not used for it) and only peers running as this user.
    """
    if serial_spec not in LOOPBACK_ABIS:
        address = server or ServerAddress.from_environment()
        chosen = resolve_transport(transport, parse_serial(serial_spec), address)
        yield lambda: connect(serial_spec, key_path=key_path, transport=chosen, server=address)
        return
    resolve_transport(transport, parse_serial(serial_spec), server or ServerAddress())
    with loopback_device_for_run(abi=LOOPBACK_ABIS[serial_spec]) as (device, run_key):
        yield lambda: connect(device.serial, key_path=run_key)


@contextlib.contextmanager
def loopback_device_for_run(**device_options) -> Iterator[tuple[LoopbackDevice, Path]]:
    """(device, run key path): a loopback device that accepts only the run's own key, and that key.

    Key and sandbox live in one private temporary folder named after this process and held with an flock
    while it lives; the folders that sweeps killed before they could clean up (their process gone, their
    flock free) are removed first."""
    remove_folders_of_dead_runs()
    with private_run_folder() as folder:
        key_dir = folder / "key"
        key_dir.mkdir(mode=0o700)
        run_key = ensure_key_pair(key_dir / RUN_KEY_NAME)
        sandbox = folder / "sandbox"
        sandbox.mkdir(mode=0o700)
        device = LoopbackDevice(sandbox, port=0, auth_required=True, adb_keys_path=Path(f"{run_key}.pub"),
                                state_dir_parent=folder, **device_options)
        try:
            device.start()
        except LoopbackDeviceError as error:
            raise LoopbackStartFailed(str(error)) from error
        with device:
            yield device, run_key


@contextlib.contextmanager
def private_run_folder(temp_root: Path | None = None) -> Iterator[Path]:
    """A 0700 temporary folder ``splitbench-loopback-run-<pid>-XXXX`` holding OWNER_LOCK, flocked until the end."""
    folder = Path(tempfile.mkdtemp(prefix=f"{RUN_FOLDER_PREFIX}{os.getpid()}-", dir=temp_root))
    try:
        with open(folder / OWNER_LOCK, "w") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_folders_of_dead_runs(temp_root: Path | None = None) -> list[Path]:
    """Remove the run folders of loopback sweeps that died (kill -9): their pid is gone and their flock free."""
    removed = []
    for folder in Path(temp_root or tempfile.gettempdir()).glob(f"{RUN_FOLDER_PREFIX}*"):
        pid = folder.name[len(RUN_FOLDER_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
            continue
        if pid_alive(int(pid)) or not _lock_is_free(folder / OWNER_LOCK):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _lock_is_free(path: Path) -> bool:
    try:
        with open(path) as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # no lock file: a folder whose owner died before it made one
    return True
