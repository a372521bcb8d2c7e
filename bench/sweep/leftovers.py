"""A runner that outlived its sweep (the sweep was killed, or its connection dropped and the device kept the
runner going) is found by the pid file its launch left in the run's device folder and ended before anything
is measured, so that it does not hold the pinned core during the resumed sweep's launches."""

from __future__ import annotations

import posixpath
import shlex

from bench.adb.scripts import ShellConnection, run_script, section_marker, split_sections
from bench.sweep.device_lock import RUNS_DIR_NAME
from bench.sweep.launch import RUNNER_PID_FILE
from bench.sweep.runners import RUNNER_EXECUTABLE


def end_leftovers_script(root: str, run_ids: list[str]) -> str:
    """For each run's device folder: the runner named by its pid file is killed when /proc/PID/cmdline shows it
    is still a splitbench runner (one line `pid|command` each); the pid file and unread outputs are removed."""
    lines = [section_marker("ended")]
    for run_id in run_ids:
        run_dir = posixpath.join(root, RUNS_DIR_NAME, run_id)
        pid_file = shlex.quote(posixpath.join(run_dir, RUNNER_PID_FILE))
        lines += [
            f"if [ -f {pid_file} ]; then",
            f"  pid=$(cat {pid_file})",
            '  case "$pid" in ""|*[!0-9]*) pid="";; esac',
            "  command=$([ -n \"$pid\" ] && tr '\\0' ' ' </proc/$pid/cmdline 2>/dev/null)",
            f"  case \"$command\" in *{RUNNER_EXECUTABLE}*) kill -9 \"$pid\" 2>/dev/null && echo \"$pid|$command\";; esac",
            f"  rm -f {pid_file}",
            "fi",
            f"rm -f {shlex.quote(run_dir)}/*.stdout {shlex.quote(run_dir)}/*.stderr 2>/dev/null",
        ]
    return "\n".join(lines + ["true"])


def end_leftover_runners(connection: ShellConnection, root: str, run_ids: list[str]) -> list[dict]:
    """[{"run_id"?, "pid", "command"}] of the runners ended (none when every launch ended with its sweep)."""
    result = run_script(connection, end_leftovers_script(root, run_ids), timeout_s=60)
    ended = []
    for line in split_sections(result.output).get("ended", "").splitlines():
        pid, _, command = line.partition("|")
        if pid.strip().isdigit():
            ended.append({"pid": int(pid), "command": command.strip()})
    return ended
