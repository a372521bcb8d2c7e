"""Turn a --serial value into a way to connect: a real device, or a loopback device started for the run."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from bench.adb.connection import connect
from bench.adb.keys import ensure_key_pair
from bench.adb.serials import LOOPBACK_ABIS, LOOPBACK_SERIAL
from bench.loopback import LoopbackDevice

__all__ = ["LOOPBACK_SERIAL", "device_connector", "loopback_device_for_run"]

RUN_KEY_NAME = "adbkey"


@contextlib.contextmanager
def device_connector(serial_spec: str, key_path: Path | None = None) -> Iterator[Callable[[], object]]:
    """Yields ``connect() -> DeviceConnection``.

    ``loopback`` starts a LoopbackDevice (sandbox in a temporary folder) for the duration
    of the block and stops it afterwards, ``loopback-arm64`` one that is an emulated Android arm64 phone;
    any other value is an adb serial.
    The loopback device serves only this run: it accepts only a key pair made for the run (in a private
    temporary folder, private key 0600; key_path is not used for it) and only peers running as this user.
    """
    if serial_spec not in LOOPBACK_ABIS:
        yield lambda: connect(serial_spec, key_path=key_path)
        return
    with loopback_device_for_run(abi=LOOPBACK_ABIS[serial_spec]) as (device, run_key):
        yield lambda: connect(device.serial, key_path=run_key)


@contextlib.contextmanager
def loopback_device_for_run(**device_options) -> Iterator[tuple[LoopbackDevice, Path]]:
    """(device, run key path): a loopback device that accepts only the run's own key, and that key."""
    with tempfile.TemporaryDirectory(prefix="splitbench-loopback-key-") as key_dir:  # mode 0700
        run_key = ensure_key_pair(Path(key_dir) / RUN_KEY_NAME)
        with tempfile.TemporaryDirectory(prefix="splitbench-loopback-") as sandbox:
            with LoopbackDevice(sandbox, port=0, auth_required=True, adb_keys_path=Path(f"{run_key}.pub"),
                                **device_options) as device:
                yield device, run_key
