"""Turn a --serial value into a way to connect: a real device, or a loopback device started for the run."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from bench.adb.connection import connect
from bench.loopback import LoopbackDevice
from bench.adb.serials import LOOPBACK_SERIAL


@contextlib.contextmanager
def device_connector(serial_spec: str, key_path: Path | None = None) -> Iterator[Callable[[], object]]:
    """Yields ``connect() -> DeviceConnection``.

    ``loopback`` starts a LoopbackDevice (sandbox in a temporary folder) for the duration
    of the block and stops it afterwards; any other value is an adb serial.
    """
    if serial_spec != LOOPBACK_SERIAL:
        yield lambda: connect(serial_spec, key_path=key_path)
        return
    with tempfile.TemporaryDirectory(prefix="splitbench-loopback-") as sandbox:
        with LoopbackDevice(sandbox, port=0) as device:
            yield lambda: connect(device.serial, key_path=key_path)
