"""Faults the loopback device can inject, for tests of what the host does when a phone misbehaves."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from loopback.errors import LoopbackDeviceError


@dataclass
class FaultPlan:
    """One-shot faults: each fires once, then the device behaves again.

    drop_after_commands: the connection is dropped when the host opens a stream after this many were opened.
    drop_after_bytes: the connection is dropped once the host has sent more than this many payload bytes.
    """

    drop_after_commands: int | None = None
    drop_after_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in ("drop_after_commands", "drop_after_bytes"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise LoopbackDeviceError(f"{name} = {value}: give 0 or more (or None for no fault)")


class FaultCounters:
    """Counts what hosts did and decides when a planned fault fires."""

    def __init__(self, plan: FaultPlan):
        self._plan = plan
        self._lock = threading.Lock()
        self.commands_opened = 0
        self.bytes_received = 0
        self._commands_fault_fired = False
        self._bytes_fault_fired = False

    def allow_open(self) -> bool:
        with self._lock:
            limit = self._plan.drop_after_commands
            if limit is not None and not self._commands_fault_fired and self.commands_opened >= limit:
                self._commands_fault_fired = True
                return False
            self.commands_opened += 1
            return True

    def allow_bytes(self, count: int) -> bool:
        with self._lock:
            self.bytes_received += count
            limit = self._plan.drop_after_bytes
            if limit is not None and not self._bytes_fault_fired and self.bytes_received > limit:
                self._bytes_fault_fired = True
                return False
            return True
