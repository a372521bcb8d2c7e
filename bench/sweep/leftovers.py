"""A runner that outlived its sweep (the sweep was killed, or its connection dropped and the device kept the
runner going) is found by the pid file its launch left in the run's device folder and ended before anything
is measured, so that it does not hold the pinned core during the resumed sweep's launches.

A process is ended only when it is provably this run's runner: the pid file records the pid and its start time
(bench.sweep.launch.RECORD_PID_AND_EXEC), and the process of that pid must still have that start time (a pid
reused since has another), run the runner (its /proc cmdline names RUNNER_EXECUTABLE) and carry this run's own
device folder in its environment (RUN_DIR_VARIABLE; the runner's command line cannot carry it without a runner
change). A pid file without a start time (written by an older splitbench) proves nothing: its process is left
alone and the pid file removed."""

from __future__ import annotations

import posixpath
import shlex

from bench.adb.scripts import ShellConnection, run_script, section_marker, split_sections
from bench.sweep.device_lock import RUNS_DIR_NAME
from bench.sweep.launch import RUN_DIR_VARIABLE, RUNNER_PID_FILE
from bench.sweep.runners import RUNNER_EXECUTABLE

# The start time (clock ticks after boot) of process $pid: field 22 of /proc/PID/stat, counted after the
# "(comm)" field, which may itself hold spaces and parentheses.
START_TICKS_OF_PID = "sed 's/.*) //' /proc/$pid/stat 2>/dev/null | cut -d' ' -f20"


def end_leftovers_script(root: str, run_ids: list[str]) -> str:
    """For each run's device folder: the runner named by its pid file is killed when it is provably this run's
    (start time, runner command line and run folder all match; one line `pid|command` each); the pid file and
    unread outputs are removed."""
    lines = [section_marker("ended")]
    for run_id in run_ids:
        run_dir = posixpath.join(root, RUNS_DIR_NAME, run_id)
        pid_file = shlex.quote(posixpath.join(run_dir, RUNNER_PID_FILE))
        marker = shlex.quote(f"{RUN_DIR_VARIABLE}={run_dir}")
        lines += [
            f"if [ -f {pid_file} ]; then",
            f"  pid=; started=; read -r pid started rest <{pid_file}",
            '  case "$pid" in ""|*[!0-9]*) pid="";; esac',
            '  case "$started" in ""|*[!0-9]*) pid="";; esac',
            '  if [ -n "$pid" ]; then',
            f"    now=$({START_TICKS_OF_PID})",
            "    command=$(tr '\\0' ' ' </proc/$pid/cmdline 2>/dev/null)",
            '    if [ "$now" = "$started" ] && '
            f"tr '\\0' '\\n' </proc/$pid/environ 2>/dev/null | grep -qxF {marker}; then",
            f"      case \"$command\" in *{RUNNER_EXECUTABLE}*) kill -9 \"$pid\" 2>/dev/null && echo \"$pid|$command\";; esac",
            "    fi",
            "  fi",
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
