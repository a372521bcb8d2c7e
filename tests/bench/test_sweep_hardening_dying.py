"""Dying cleanly: after kill -9 of a sweep the runner does not keep the pinned core, the loopback device's
temporary folder does not stay behind, and the resumed run ends a leftover runner of its own and marks the
dead session."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from polling import wait_for
from sweep_fakes import runner_result_json, write_manifest, write_script_bundle

from bench import run_device
from bench.adb.target import RUN_FOLDER_PREFIX
from loopback import LoopbackDevice
from loopback.reaper import session_members

pytestmark = pytest.mark.slow  # runs whole sweeps in subprocesses

REPO = Path(__file__).resolve().parents[2]
QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches",
         "--no-core-peak"]  # the script runners answer --measure-peak by sleeping like any launch
OK_JSON = shlex.quote(json.dumps(runner_result_json()))


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def processes_with(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if alive(pid)]


WAIT_S = 60


def test_kill_9_of_a_loopback_sweep_ends_its_runner_and_the_next_sweep_removes_its_folder(tmp_path):
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(temp_root))
    manifest = write_manifest(tmp_path / "export", ["full"])
    slow = write_script_bundle(tmp_path / "slow_bundle", f"sleep 120; echo {OK_JSON}\n")
    sweep = subprocess.Popen([sys.executable, "-m", "bench.run_device", "--serial", "loopback", "--manifest",
                              str(manifest), "--out", str(tmp_path / "out"), "--runner-bundle", str(slow),
                              "--launches", "1", *QUICK], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        runners = wait_for(lambda: [pid for pid in processes_with(f"{RUN_FOLDER_PREFIX}{sweep.pid}-")
                                    if "splitbench_runner --model" in _cmdline(pid)], "the runner's start", WAIT_S)
        session = os.getsid(runners[0])
        members = wait_for(lambda: [pid for pid in session_members(session) if alive(pid)]
                           if any("sleep 120" in _cmdline(pid) for pid in session_members(session)) else [],
                           "the runner's sleep", WAIT_S)
        assert runners[0] in members and len(members) >= 3  # sh -c, timeout, the runner, its sleep
    finally:
        sweep.send_signal(signal.SIGKILL)
        sweep.wait(timeout=30)
    wait_for(lambda: not any(alive(pid) for pid in members), "the end of the runner's process group", WAIT_S)
    (leaked,) = temp_root.glob(f"{RUN_FOLDER_PREFIX}{sweep.pid}-*")  # kill -9 gave it no chance to clean up

    quick = write_script_bundle(tmp_path / "quick_bundle", f"echo {OK_JSON}\n")
    next_sweep = subprocess.run([sys.executable, "-m", "bench.run_device", "--serial", "loopback", "--manifest",
                                 str(manifest), "--out", str(tmp_path / "out2"), "--runner-bundle", str(quick),
                                 "--launches", "1", *QUICK], cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=120)
    assert next_sweep.returncode == 0, next_sweep.stderr
    assert not leaked.exists() and list(temp_root.iterdir()) == []  # key, sandbox and device state were in it


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_resume_ends_a_leftover_runner_of_its_run_and_marks_the_dead_session(tmp_path, capsys):
    """As on a phone whose runner outlives the adb connection: the runner leaves its process group."""
    manifest = write_manifest(tmp_path / "export", ["full", "conv5_1_simple", "conv5_2_simple"])
    ready = tmp_path / "escaped.ready"
    escaping = write_script_bundle(tmp_path / "escaping_bundle", (
        'case "$*" in *conv5_1_simple*) exec /usr/bin/python3 -c '
        '"import os, sys, time; os.setsid(); open(sys.argv[1], \'w\').close(); time.sleep(300)" '
        f"{ready} splitbench_runner-escaped ;; esac\n"
        f"echo {OK_JSON}\n"))
    normal = write_script_bundle(tmp_path / "normal_bundle", f"echo {OK_JSON}\n")
    out = tmp_path / "out"
    escaped: list[int] = []
    with LoopbackDevice(tmp_path / "sandbox") as device:
        argv = ["--serial", device.serial, "--adb-key", str(tmp_path / "key"), "--out", str(out)]
        sweep = subprocess.Popen([sys.executable, "-m", "bench.run_device", *argv, "--manifest", str(manifest),
                                  "--runner-bundle", str(escaping), "--launches", "1", *QUICK],
                                 cwd=REPO, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(ready.exists, "the escaping runner's own session", WAIT_S)
            escaped = processes_with("splitbench_runner-escaped")
            pid_files = list((device.sandbox / "splitbench" / "runs").glob("*/runner.pid"))
            assert len(pid_files) == 1 and [int(pid_files[0].read_text().split()[0])] == escaped
        finally:
            sweep.send_signal(signal.SIGKILL)
            sweep.wait(timeout=30)
        try:
            (run_folder,) = out.iterdir()
            info = json.loads((run_folder / "run.json").read_text())
            assert info["sessions"][0]["end"] == "running"  # it never got to say how it ended
            time.sleep(0.5)
            assert alive(escaped[0])  # the device kept it going

            code = run_device.main([*argv, "--resume", run_folder.name, "--runner-bundle", str(normal)])
            assert code == 0, capsys.readouterr().err
            assert not alive(escaped[0])
        finally:
            for pid in escaped:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
    info = json.loads((run_folder / "run.json").read_text())
    first, resumed = info["sessions"]
    assert first["end"] == "died" and resumed["end"] == "complete"
    assert [entry["pid"] for entry in resumed["leftover_runners_ended"]] == [escaped[0]]
    assert "splitbench_runner-escaped" in resumed["leftover_runners_ended"][0]["command"]
    takeover = resumed["device_lock_takeover"]
    assert takeover["previous_owner"]["run_id"] == run_folder.name and "earlier session of this run" in takeover["reason"]
    rows = [json.loads(line) for line in (run_folder / "results.jsonl").read_text().splitlines()]
    keys = [(r["program_id"], r["launch_index"]) for r in rows]
    assert sorted(keys) == sorted((f"{c}.xnnpack", 0) for c in ("full", "conv5_1_simple", "conv5_2_simple"))
    assert {r["status"] for r in rows} == {"ok"} and [r["row_index"] for r in rows] == [0, 1, 2]
