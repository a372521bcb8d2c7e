"""The sweep loop: every selected program, N launches each, one results row per launch.

Launches already in the results (a resumed run) are skipped; rows are appended as they
finish. Runner failures become rows, and so do programs that are not launched at all (a model
file that could not be pushed: deploy_error; no runner build that can run it: unsupported).
A device that stays away stops the sweep with SweepStopped, after which the run can be resumed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.adb.reconnect import CONNECTION_ERRORS, DeviceLink
from bench.device.cooldown import CooldownPolicy, cool_down
from bench.device.environment import EnvSnapshot, read_env_snapshot
from bench.errors import DeviceLost, SweepStopped
from bench.sweep.deploy import DeviceLayout
from bench.sweep.device_lock import DeviceClaim
from bench.sweep.launch import LaunchOutcome, LaunchRequest, run_launch
from bench.sweep.precision import interval_too_wide
from bench.sweep.programs import Program
from bench.sweep.progress import PendingLaunch, ProgressEvent, SweepProgress
from bench.sweep.settings import SweepConfig
from formats.device_facts import DeviceFacts
from formats.results import ResultRow, RowWriter
from formats.run_folder import utc_now_text

ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class SweepPlan:
    run_id: str
    programs: list[Program]
    config: SweepConfig
    core: int
    layout: DeviceLayout
    device: DeviceFacts
    completed: frozenset[tuple[str, int]] = frozenset()
    first_row_index: int = 0
    deploy_failures: dict[str, str] = field(default_factory=dict)  # program id -> message
    unsupported: dict[str, str] = field(default_factory=dict)  # program id -> why no runner can run it
    claim: DeviceClaim | None = None  # the device lock this sweep holds (bench.sweep.device_lock)

    def not_launched(self, program: Program) -> LaunchOutcome | None:
        """The row outcome of a program that is not launched at all, or None when it is launched."""
        if program.program_id in self.unsupported:
            return not_launched_outcome("unsupported", self.unsupported[program.program_id])
        if program.program_id in self.deploy_failures:
            return not_launched_outcome("deploy_error", self.deploy_failures[program.program_id])
        return None

    def pending(self, program: Program) -> list[int]:
        return [i for i in range(self.config.launches) if (program.program_id, i) not in self.completed]


@dataclass
class SweepSummary:
    rows_written: int = 0
    rows_already_done: int = 0
    statuses: Counter = field(default_factory=Counter)
    launches_wall_s: float = 0.0
    cooldown_s: float = 0.0
    reconnections: int = 0


def run_sweep(link: DeviceLink, plan: SweepPlan, writer: RowWriter,
              on_progress: ProgressCallback | None = None,
              sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic) -> SweepSummary:
    config = plan.config
    summary = SweepSummary(rows_already_done=len(plan.completed))
    queue = [(program, PendingLaunch(number, program.program_id, launch_index, program.work))
             for number, program in enumerate(plan.programs, start=1)
             for launch_index in plan.pending(program)]
    progress = SweepProgress([pending for _, pending in queue], len(plan.programs), config.launches,
                             already_done=len(plan.programs) * config.launches - len(queue),
                             cooldown_s=config.cooldown_s, callback=on_progress, clock=clock)
    position = 0
    link.on_reconnect = lambda attempt, wait_s, exc: progress.emit(
        "reconnect", position,
        f"device lost ({connection_failure_reason(exc)}); reconnect attempt {attempt} in {wait_s:.0f} s")

    def hottest_c() -> float | None:
        return device_call(link, plan.run_id, lambda c: read_env_snapshot(c, plan.core)).hottest_c

    baseline_c = hottest_c()
    policy = CooldownPolicy(config.cooldown_s, config.cooldown_max_s, config.cooldown_margin_c)
    launch_samples: dict[str, list[list[float]]] = {}  # program id -> timed inferences of its ok launches (this session)

    def launch_and_record(program: Program, pending: PendingLaunch) -> None:
        outcome = launch_outcome(link, plan, program, pending.launch_index)
        writer.append(build_row(plan, program, pending.launch_index, plan.first_row_index + summary.rows_written,
                                outcome))
        summary.rows_written += 1
        summary.statuses[outcome.status] += 1
        summary.launches_wall_s += outcome.wall_s
        progress.record_launch(pending, outcome.wall_s)
        if outcome.status == "ok" and outcome.runner is not None:
            launch_samples.setdefault(program.program_id, []).append(list(outcome.runner["timing"]["inference_ms"]))

    for position, (program, pending) in enumerate(queue):
        if position > 0 and queue[position - 1][0] is not program and plan.not_launched(program) is None:
            progress.emit("cooldown", position, f"before {program.program_id}")
            summary.cooldown_s += cool_down(policy, baseline_c, hottest_c, sleep=sleep, clock=clock).waited_s
        progress.emit("launch", position)
        launch_and_record(program, pending)
        last_of_program = position + 1 == len(queue) or queue[position + 1][0] is not program
        next_index = pending.launch_index + 1
        while last_of_program:
            interval = interval_too_wide(launch_samples.get(program.program_id, []), config, next_index)
            if interval is None:
                break
            progress.emit("precision", position + 1,
                          f"{program.program_id}: median +-{interval.half_width_pct:.1f}% > {config.target_ci_pct}%, "
                          f"extra launch {next_index + 1} (at most {config.max_launches})")
            launch_and_record(program, PendingLaunch(pending.program_number, program.program_id, next_index,
                                                     program.work))
            next_index += 1
    summary.reconnections = link.reconnections
    progress.emit("done", len(queue))
    return summary


def launch_outcome(link: DeviceLink, plan: SweepPlan, program: Program, launch_index: int) -> LaunchOutcome:
    """Run one launch (page cache dropped before a program's first launch when possible), or the
    outcome of a program that is not launched (deploy_error, unsupported)."""
    not_launched = plan.not_launched(program)
    if not_launched is not None:
        return not_launched
    request = LaunchRequest(program=program, core=plan.core,
                            drop_page_cache=launch_index == 0 and plan.config.drop_caches
                            and plan.device.can_drop_caches, launch_index=launch_index, claim=plan.claim)
    return device_call(link, plan.run_id, lambda c: run_launch(c, plan.layout, request, plan.config))


def device_call(link: DeviceLink, run_id: str, action):
    """link.call, turning a device that went away for good into SweepStopped (rows so far are kept).

    A device that never answered raises its own error (DeviceUnreachable): nothing was started.
    """
    try:
        return link.call(action)
    except CONNECTION_ERRORS as exc:
        if not link.ever_connected:
            raise
        raise SweepStopped(f"lost the device and could not reconnect after {link.attempts} attempt(s) "
                           f"({connection_failure_reason(exc)}); reconnect it and resume the run",
                           run_id=run_id) from exc


def connection_failure_reason(exc: Exception) -> str:
    """A short reason: the transport's own error when there is one (not the whole device command)."""
    reason = str(exc.__cause__) if isinstance(exc, DeviceLost) and exc.__cause__ else str(exc)
    reason = " ".join(reason.split())
    return reason if len(reason) <= 240 else reason[:237] + "..."


def not_launched_outcome(status: str, message: str) -> LaunchOutcome:
    """A row for a launch that never started: no runner output, the reason in runner_stderr."""
    empty = EnvSnapshot(cpu_cur_freq_khz=None, temperatures_c={})
    return LaunchOutcome(status=status, runner=None, runner_exit_code=None, runner_stderr=message,
                         page_cache_dropped=False, env_before=empty, env_after=empty,
                         started_utc=utc_now_text(), wall_s=0.0)


def build_row(plan: SweepPlan, program: Program, launch_index: int, row_index: int,
              outcome: LaunchOutcome) -> ResultRow:
    return ResultRow(
        run_id=plan.run_id, row_index=row_index, program_id=program.program_id, launch_index=launch_index,
        launch_kind="first" if launch_index == 0 else "warm",
        page_cache_dropped=outcome.page_cache_dropped, status=outcome.status,
        core=plan.core, threads=plan.config.threads, device=plan.device.to_json(),
        manifest_entry=program.manifest_entry, runner=outcome.runner,
        runner_exit_code=outcome.runner_exit_code, runner_stderr=outcome.runner_stderr,
        env_before=outcome.env_before.to_json(), env_after=outcome.env_after.to_json(),
        started_utc=outcome.started_utc, wall_s=outcome.wall_s,
    )
