"""One process launch of the runner on the device, and what became of it.

A launch is one shell round trip: the environment before, an optional page-cache drop,
the runner (pinned, one thread, under a device-side time limit), the environment after,
then the runner's exit code, stdout and the tail of its stderr.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import time
from dataclasses import dataclass

from bench.adb.scripts import ShellConnection, run_script, section_marker, split_sections
from bench.device.environment import EnvSnapshot, env_snapshot_from_sections, snapshot_script
from bench.errors import CommandTimedOut
from bench.sweep.deploy import DeviceLayout, DeviceRunner
from bench.sweep.device_lock import RUNS_DIR_NAME, DeviceClaim, lock_lost_error
from bench.sweep.programs import Program
from bench.sweep.settings import SweepConfig
from formats.run_folder import utc_now_text
from formats.runner_result import find_runner_capabilities, find_runner_result

STDERR_TAIL_BYTES = 16384
TIMEOUT_EXIT_CODE = 124  # `timeout` when the time limit ended the command
KILL_GRACE_S = 5
SHELL_TIMEOUT_MARGIN_S = 60
ADHOC_RUN_ID = "adhoc"  # the device folder of launches made outside a sweep (no claim)
RUNNER_PID_FILE = "runner.pid"
RUN_DIR_VARIABLE = "SPLITBENCH_RUN_DIR"  # in the runner's environment: the run folder it belongs to
# `sh -c RECORD_PID_AND_EXEC PIDFILE COMMAND...`: writes "PID START_TICKS" (its /proc start time, which exec keeps),
# then becomes COMMAND (env, then the runner) with the run's folder (the pid file's folder) in its environment
RECORD_PID_AND_EXEC = (
    'echo "$$ $(sed \'s/.*) //\' /proc/$$/stat 2>/dev/null | cut -d" " -f20)" >"$0"; '
    f'export {RUN_DIR_VARIABLE}="${{0%/*}}"; exec "$@"'
)
NO_RESULT_MESSAGE = ("splitbench: the runner exited with code 0 but printed nothing on stdout (no result JSON); "
                     "run it by hand on the device to see why, or rebuild it")


@dataclass(frozen=True)
class LaunchRequest:
    program: Program
    core: int
    drop_page_cache: bool
    launch_index: int = 0
    claim: DeviceClaim | None = None  # the sweep's device lock and run folder; None: no lock, run id "adhoc"

    @property
    def output_stem(self) -> str:
        """The per-launch output files' name: run id, program and launch index."""
        run_id = self.claim.run_id if self.claim is not None else ADHOC_RUN_ID
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{run_id}.{self.program.program_id}.{self.launch_index}")

    def run_dir(self, layout: DeviceLayout) -> str:
        if self.claim is not None:
            return self.claim.run_dir
        return posixpath.join(layout.root, RUNS_DIR_NAME, ADHOC_RUN_ID)


@dataclass(frozen=True)
class LaunchOutcome:
    status: str  # a results row status
    runner: dict | None
    runner_exit_code: int | None
    runner_stderr: str
    page_cache_dropped: bool
    env_before: EnvSnapshot
    env_after: EnvSnapshot
    started_utc: str
    wall_s: float


def runner_args(layout: DeviceLayout, request: LaunchRequest, config: SweepConfig) -> list[str]:
    """The runner's arguments: the manifest's input shape for a program whose runtime needs it (a .ptl file records
    no input shape); the runner itself (its runtime's build, and how it starts) is the layout's DeviceRunner."""
    program = request.program
    argv = [
        "--model", layout.model_path(program),
        "--iterations", str(config.iterations),
        "--warmup", str(config.warmup),
        "--core", str(request.core),
        "--threads", str(config.threads),
    ]
    if config.max_time_ms:
        argv += ["--max-time-ms", str(config.max_time_ms)]
    if program.runtime.needs_input_shape:
        argv += ["--input-shape", ",".join(str(size) for size in program.input_shape)]
    data = layout.data_path(program)
    if data is not None:
        argv += ["--data", data]
    return argv


def launch_script(layout: DeviceLayout, request: LaunchRequest, config: SweepConfig) -> str:
    """One launch. Its stdout and stderr go to files of its own in the run's device folder (removed once read),
    and the runner's pid to RUNNER_PID_FILE there while it runs (so that a resumed sweep can end a runner that
    outlived its sweep). With a claim, the launch first checks that the device lock is still this sweep's."""
    run_dir = request.run_dir(layout)
    stdout_path = shlex.quote(posixpath.join(run_dir, request.output_stem + ".stdout"))
    stderr_path = shlex.quote(posixpath.join(run_dir, request.output_stem + ".stderr"))
    pid_path = shlex.quote(posixpath.join(run_dir, RUNNER_PID_FILE))
    runner = layout.runner_for(request.program)
    command = runner.command(*runner_args(layout, request, config))
    limit_s = int(config.launch_timeout_s)
    lines = request.claim.heartbeat_lines() if request.claim is not None else []
    lines += [f"mkdir -p {shlex.quote(run_dir)}", snapshot_script(request.core, prefix="before_")]
    if request.drop_page_cache:
        lines += [
            section_marker("drop_caches"),
            "sync; if (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then echo dropped; else echo failed; fi",
        ]
    lines += [
        f"cd {shlex.quote(runner.folder)} || exit 97",
        f"rm -f {stdout_path} {stderr_path}",
        f'limit=""; if command -v timeout >/dev/null 2>&1; then limit="timeout -k {KILL_GRACE_S} {limit_s}"; fi',
        f"$limit sh -c {shlex.quote(RECORD_PID_AND_EXEC)} {pid_path} {command} >{stdout_path} 2>{stderr_path}",
        "rc=$?",
        f"rm -f {pid_path}",
        snapshot_script(request.core, prefix="after_"),
        section_marker("rc"), 'echo "$rc"',
        section_marker("stdout"), f"cat {stdout_path}",
        section_marker("stderr"), f"tail -c {STDERR_TAIL_BYTES} {stderr_path}",
        f"rm -f {stdout_path} {stderr_path}",
        "true",
    ]
    return "\n".join(lines)


def run_launch(connection: ShellConnection, layout: DeviceLayout, request: LaunchRequest,
               config: SweepConfig, clock=time.perf_counter) -> LaunchOutcome:
    """Run the program once. Device errors (lost connection) propagate; runner failures become a status."""
    started_utc = utc_now_text()
    started = clock()
    try:
        result = run_script(connection, launch_script(layout, request, config),
                            timeout_s=config.launch_timeout_s + KILL_GRACE_S + SHELL_TIMEOUT_MARGIN_S)
    except CommandTimedOut as exc:  # the device-side limit did not end it: the connection did
        return timed_out_outcome(str(exc), started_utc, clock() - started)
    wall_s = clock() - started
    sections = split_sections(result.output)
    if "lock_lost" in sections:
        raise lock_lost_error(sections["lock_lost"])
    exit_code = parse_exit_code(sections.get("rc"))
    stdout = sections.get("stdout", "")
    stderr = sections.get("stderr", "")
    if "rc" not in sections:  # the script itself failed (e.g. the runner folder is gone)
        stderr = result.output[-STDERR_TAIL_BYTES:]
    status, runner = classify_launch(exit_code, stdout, wall_s, config.launch_timeout_s)
    if status == "runner_error" and runner is None:
        stderr = f"{NO_RESULT_MESSAGE}\n{stderr}" if stderr else NO_RESULT_MESSAGE
    return LaunchOutcome(
        status=status, runner=runner, runner_exit_code=exit_code, runner_stderr=stderr,
        page_cache_dropped=(sections.get("drop_caches") or "").strip() == "dropped",
        env_before=env_snapshot_from_sections(sections, "before_"),
        env_after=env_snapshot_from_sections(sections, "after_"),
        started_utc=started_utc, wall_s=round(wall_s, 4),
    )


def read_runner_capabilities(connection: ShellConnection, runner: DeviceRunner) -> dict | None:
    """The deployed runner's ``--version`` JSON (splitbench.runner_capabilities), or None if it gave none."""
    result = run_script(connection, f"{runner.command('--version')} 2>&1", timeout_s=120)
    return find_runner_capabilities(result.output)


def timed_out_outcome(message: str, started_utc: str, wall_s: float) -> LaunchOutcome:
    unknown = EnvSnapshot(cpu_cur_freq_khz=None, temperatures_c={})
    return LaunchOutcome(status="timeout", runner=None, runner_exit_code=None, runner_stderr=message,
                         page_cache_dropped=False, env_before=unknown, env_after=unknown,
                         started_utc=started_utc, wall_s=round(wall_s, 4))


def parse_exit_code(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def classify_launch(exit_code: int | None, stdout: str, wall_s: float, timeout_s: float) -> tuple[str, dict | None]:
    """(row status, runner JSON or None) for a finished launch.

    - timeout: the device-side limit ended it (exit 124, or killed after the limit)
    - runner_crash: killed by a signal, or no runner JSON at all
    - runner_error: the runner reported status "error" (load failure, bad model, ...), or it exited 0
      with an empty stdout (no result at all: the row's stderr says so, NO_RESULT_MESSAGE)
    - ok: status "ok" and exit code 0
    """
    runner = find_runner_result(stdout)
    if exit_code == TIMEOUT_EXIT_CODE or (exit_code == 128 + 9 and wall_s >= timeout_s):
        return "timeout", runner
    if exit_code == 0 and not stdout.strip():
        return "runner_error", None
    if runner is None or exit_code is None or exit_code >= 128:
        return "runner_crash", runner
    if runner.get("status") == "ok" and exit_code == 0:
        return "ok", runner
    return "runner_error", runner
