"""A device connection that reconnects with back-off when the device drops away."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from bench.adb.device import Device
from bench.errors import DeviceLost, DeviceUnreachable

T = TypeVar("T")
CONNECTION_ERRORS = (DeviceLost, DeviceUnreachable)


class DeviceLink:
    """Holds the current connection; ``call(fn)`` runs ``fn(connection)`` and, if the device
    is lost, reconnects (waits backoff_s, 2x, 4x, ...) and runs it again.

    After ``attempts`` failed reconnections the last DeviceLost/DeviceUnreachable is raised.
    A device that never answered is not retried: the first error is raised as it is.
    """

    def __init__(self, connect: Callable[[], Device], attempts: int = 4, backoff_s: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_reconnect: Callable[[int, float, Exception], None] | None = None):
        self.connect = connect
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.on_reconnect = on_reconnect
        self.connection: Device | None = None
        self.reconnections = 0
        self.ever_connected = False

    def current(self) -> Device:
        if self.connection is None:
            self.connection = self.connect()
            self.ever_connected = True
        return self.connection

    def call(self, action: Callable[[Device], T]) -> T:
        failures = 0
        while True:
            try:
                return action(self.current())
            except CONNECTION_ERRORS as exc:
                self.drop()
                if failures >= self.attempts or not self.ever_connected:
                    raise
                wait_s = self.backoff_s * (2 ** failures)
                failures += 1
                if self.on_reconnect is not None:
                    self.on_reconnect(failures, wait_s, exc)
                self.sleep(wait_s)
                self.reconnections += 1

    def drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - the connection is already broken; closing is best effort
                pass
            self.connection = None

    def close(self) -> None:
        self.drop()
