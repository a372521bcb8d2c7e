"""Progress of a sweep: events for the caller, and the estimate of the time left.

The estimate expects a program launched before to take as long again, scales any other by its
FLOPs (else its size) with the seconds per unit observed so far, and adds the cool-downs still due.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from formats.display_text import shown


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


@dataclass(frozen=True)
class PendingLaunch:
    program_number: int  # 1-based position of the program in the sweep
    program_id: str
    launch_index: int
    work: int  # the program's FLOPs from the manifest, or its file size in bytes when FLOPs are unknown


class RemainingTimeEstimator:
    """Seconds left = sum over pending launches of their expected time + pending cool-downs.

    A program already launched is expected to take its own mean launch time again; any other
    takes its work (FLOPs, else bytes) times the seconds per unit of work observed so far.
    Timed inferences dominate a launch, so FLOPs predict it far better than file size: a VGG-16
    client holds 8 % of the full model's bytes but does 93-99 % of its FLOPs.
    """

    def __init__(self, cooldown_s: float):
        self.cooldown_s = cooldown_s
        self.wall_s_by_program: dict[str, list[float]] = {}
        self.measured_s = 0.0
        self.measured_work = 0

    def record_launch(self, launch: PendingLaunch, wall_s: float) -> None:
        self.wall_s_by_program.setdefault(launch.program_id, []).append(wall_s)
        self.measured_s += wall_s
        self.measured_work += max(launch.work, 0)

    def launch_estimate_s(self, launch: PendingLaunch) -> float:
        seen = self.wall_s_by_program.get(launch.program_id)
        if seen:
            return sum(seen) / len(seen)
        if self.measured_work > 0:
            return launch.work * self.measured_s / self.measured_work
        return self.measured_s / sum(len(walls) for walls in self.wall_s_by_program.values())

    def estimate_s(self, pending: list[PendingLaunch], pending_cooldowns: int) -> float | None:
        if not self.wall_s_by_program:
            return None
        return sum(self.launch_estimate_s(launch) for launch in pending) + pending_cooldowns * self.cooldown_s


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def format_progress(event: ProgressEvent) -> str:
    """One stderr line for an event; the program id and message are shown with control characters escaped."""
    head = f"[{event.done_launches}/{event.total_launches}] elapsed {format_duration(event.elapsed_s)}, " \
           f"left ~{format_duration(event.remaining_s)}"
    if event.phase == "launch":
        what = (f"program {event.program_number}/{event.program_count} {shown(event.program_id)} "
                f"launch {(event.launch_index or 0) + 1}/{event.launches}")
    elif event.phase == "done":
        what = "sweep finished"
    else:
        what = shown(f"{event.phase} {event.message}".strip(), max_chars=1000)
    return f"{head} | {what}"


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

    def record_launch(self, launch: PendingLaunch, wall_s: float) -> None:
        self.estimator.record_launch(launch, wall_s)

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
            remaining_s=self.estimator.estimate_s(rest, program_changes),
            message=message,
        ))
