"""A resume ends a leftover runner only when it is provably this run's: the pid file's pid still has the recorded
start time, runs the runner and carries this run's folder. A stale pid file naming another sweep's live runner
(the pid reused, or an older pid file without a start time) leaves that runner alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from polling import wait_for
from sweep_fakes import DEVICE_TMP, HostSandboxConnection

from bench.sweep.device_lock import RUNS_DIR_NAME
from bench.sweep.launch import RECORD_PID_AND_EXEC, RUNNER_PID_FILE
from bench.sweep.leftovers import end_leftover_runners

ROOT = f"{DEVICE_TMP}/splitbench"


@pytest.fixture
def device(tmp_path):
    connection = HostSandboxConnection(tmp_path / "sandbox")
    runner = tmp_path / "bundle" / "splitbench_runner"
    runner.parent.mkdir()
    runner.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(120)\n")
    runner.chmod(0o755)
    started: list[subprocess.Popen] = []

    def launch(run_id: str) -> subprocess.Popen:
        """A runner started the way a launch starts it, recording its pid file in run_id's folder."""
        run_dir = connection.host_path(f"{ROOT}/{RUNS_DIR_NAME}/{run_id}")
        run_dir.mkdir(parents=True, exist_ok=True)
        pid_file = run_dir / RUNNER_PID_FILE
        process = subprocess.Popen(["sh", "-c", RECORD_PID_AND_EXEC, str(pid_file), "env", str(runner)])
        started.append(process)
        wait_for(lambda: pid_file.exists() and pid_file.read_text().endswith("\n"), "the pid file", 10)
        wait_for(lambda: b"splitbench_runner" in Path(f"/proc/{process.pid}/cmdline").read_bytes(), "the runner", 10)
        return process

    yield connection, launch
    for process in started:
        process.kill()
        process.wait()


def pid_file_of(connection: HostSandboxConnection, run_id: str) -> Path:
    return connection.host_path(f"{ROOT}/{RUNS_DIR_NAME}/{run_id}/{RUNNER_PID_FILE}")


def alive(process: subprocess.Popen) -> bool:
    time.sleep(0.05)
    return process.poll() is None


def test_the_runs_own_leftover_runner_is_ended(device):
    connection, launch = device
    runner = launch("run-a")
    ended = end_leftover_runners(connection, ROOT, ["run-a"])
    assert [entry["pid"] for entry in ended] == [runner.pid] and "splitbench_runner" in ended[0]["command"]
    assert runner.wait(timeout=10) == -9
    assert not pid_file_of(connection, "run-a").exists()


def test_a_stale_pid_file_naming_another_sweeps_runner_ends_nothing(device):
    connection, launch = device
    other = launch("run-b")  # a live runner of another sweep
    other_record = pid_file_of(connection, "run-b").read_text()
    stale = pid_file_of(connection, "run-a")
    stale.parent.mkdir(parents=True, exist_ok=True)
    pid, start_ticks = (other_record.split() + ["100"])[:2]
    for record in (f"{pid}\n",  # an older pid file: no start time recorded, nothing proven
                   f"{pid} {int(start_ticks) - 7}\n",  # this run's runner died; the pid was reused since
                   other_record):  # even pid and start time match: the process carries run-b's folder
        stale.write_text(record)
        assert end_leftover_runners(connection, ROOT, ["run-a"]) == []
        assert alive(other), record
        assert not stale.exists()
    assert pid_file_of(connection, "run-b").read_text() == other_record


@pytest.mark.slow
def test_a_pid_file_of_garbage_ends_nothing(device):
    connection, launch = device
    other = launch("run-b")
    stale = pid_file_of(connection, "run-a")
    stale.parent.mkdir(parents=True, exist_ok=True)
    for record in ("", "x y", f"{other.pid} $(kill {other.pid})", f"-{other.pid} 1", "1 1"):
        stale.write_text(record)
        assert end_leftover_runners(connection, ROOT, ["run-a"]) == []
        assert alive(other)
    assert os.path.exists(f"/proc/{other.pid}")
