"""Progress of a sweep: events for the caller, and the estimate of the time left.

The estimate scales each remaining launch by its model's size, using the seconds per byte
observed so far (bigger models load and infer longer), and adds the cool-downs still due.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ProgressEvent:
    phase: str  # "launch" (starting one), "cooldown", "reconnect", "done"
    program_id: str | None
    program_number: int  # 1-based
    program_count: int
    launch_index: int | None
    launches: int
    done_launches: int
    total_launches: int
    elapsed_s: float
    remaining_s: float | None  # None until one launch has been timed
    message: str = ""


class RemainingTimeEstimator:
    """Seconds left = sum over pending launches of (size_bytes x observed s/byte) + pending cool-downs."""

    def __init__(self, cooldown_s: float):
        self.cooldown_s = cooldown_s
        self.measured_s = 0.0
        self.measured_bytes = 0
        self.measured_launches = 0

    def record_launch(self, size_bytes: int, wall_s: float) -> None:
        self.measured_s += wall_s
        self.measured_bytes += max(size_bytes, 0)
        self.measured_launches += 1

    def estimate_s(self, pending_launch_sizes: list[int], pending_cooldowns: int) -> float | None:
        if self.measured_launches == 0:
            return None
        if self.measured_bytes > 0:
            per_byte = self.measured_s / self.measured_bytes
            launches_s = sum(size * per_byte for size in pending_launch_sizes)
        else:
            launches_s = len(pending_launch_sizes) * self.measured_s / self.measured_launches
        return launches_s + pending_cooldowns * self.cooldown_s


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def format_progress(event: ProgressEvent) -> str:
    """One stderr line for an event."""
    head = f"[{event.done_launches}/{event.total_launches}] elapsed {format_duration(event.elapsed_s)}, " \
           f"left ~{format_duration(event.remaining_s)}"
    if event.phase == "launch":
        what = (f"program {event.program_number}/{event.program_count} {event.program_id} "
                f"launch {event.launch_index + 1}/{event.launches}")
    elif event.phase == "done":
        what = "sweep finished"
    else:
        what = f"{event.phase} {event.message}".strip()
    return f"{head} | {what}"


@dataclass(frozen=True)
class PendingLaunch:
    program_number: int  # 1-based position of the program in the sweep
    program_id: str
    launch_index: int
    size_bytes: int


class SweepProgress:
    """Turns "the sweep is at pending launch #position" into ProgressEvents for a callback."""

    def __init__(self, pending: list[PendingLaunch], program_count: int, launches: int, already_done: int,
                 cooldown_s: float, callback: Callable[[ProgressEvent], None] | None,
                 clock: Callable[[], float] = time.monotonic):
        self.pending = pending
        self.program_count = program_count
        self.launches = launches
        self.already_done = already_done
        self.callback = callback
        self.clock = clock
        self.started = clock()
        self.estimator = RemainingTimeEstimator(cooldown_s)

    def record_launch(self, size_bytes: int, wall_s: float) -> None:
        self.estimator.record_launch(size_bytes, wall_s)

    def emit(self, phase: str, position: int, message: str = "") -> None:
        if self.callback is None:
            return
        rest = self.pending[position:]
        current = rest[0] if rest else None
        program_changes = sum(1 for a, b in zip(rest, rest[1:]) if a.program_id != b.program_id)
        self.callback(ProgressEvent(
            phase=phase,
            program_id=current.program_id if current else None,
            program_number=current.program_number if current else self.program_count,
            program_count=self.program_count,
            launch_index=current.launch_index if current and phase == "launch" else None,
            launches=self.launches,
            done_launches=self.already_done + position,
            total_launches=self.already_done + len(self.pending),
            elapsed_s=self.clock() - self.started,
            remaining_s=self.estimator.estimate_s([p.size_bytes for p in rest], program_changes),
            message=message,
        ))
