"""No sweep corrupts another's run folder: two sweeps started in the same second get two run folders, and a
second writer of one run (a second --resume) fails at once, before it changes or measures anything."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from polling import wait_for
from sweep_fakes import runner_result_json, write_manifest, write_script_bundle

from bench import run_device
from formats import run_folder
from formats.run_folder import scan_rows

REPO = Path(__file__).resolve().parents[2]
QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches"]


class FrozenClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 11, 23, 11, 0, 0, tzinfo=UTC)


@pytest.mark.slow
def test_two_sweeps_started_in_the_same_second_get_their_own_run_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run_folder, "datetime", FrozenClock)
    manifest = write_manifest(tmp_path / "export", ["full", "conv5_1_simple"])
    bundle = write_script_bundle(tmp_path / "bundle", f"sleep 0.2; echo {shlex.quote(json.dumps(runner_result_json()))}\n")
    out = tmp_path / "out"
    codes = []

    def sweep():
        codes.append(run_device.main(["--serial", "loopback", "--manifest", str(manifest), "--out", str(out),
                                      "--runner-bundle", str(bundle), "--launches", "2", *QUICK]))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert codes == [0, 0], capsys.readouterr().err
    folders = sorted(p for p in out.iterdir())
    assert len(folders) == 2 and all(p.name.startswith("20261123T110000Z-loopback-") for p in folders)
    for folder in folders:
        rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
        assert {r["run_id"] for r in rows} == {folder.name} and [r["row_index"] for r in rows] == [0, 1, 2, 3]
        assert json.loads((folder / "run.json").read_text())["run_id"] == folder.name


@pytest.mark.slow
def test_a_second_resume_of_a_run_fails_at_once_and_writes_nothing(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "export", ["full", "conv5_1_simple", "conv5_2_simple"])
    ok_json = shlex.quote(json.dumps(runner_result_json()))
    bundle = write_script_bundle(tmp_path / "bundle", f"sleep 1; echo {ok_json}\n")
    out = tmp_path / "out"
    # a run interrupted after its first program
    stopped = run_device.main(["--serial", "loopback", "--manifest", str(manifest), "--out", str(out),
                               "--runner-bundle", str(bundle), "--launches", "2", "--configs", "full", *QUICK])
    assert stopped == 0
    capsys.readouterr()
    (folder,) = out.iterdir()
    info = json.loads((folder / "run.json").read_text())
    info["settings"]["configurations"] = None  # widen it to all three programs: four launches left
    (folder / "run.json").write_text(json.dumps(info))

    resume = [sys.executable, "-m", "bench.run_device", "--serial", "loopback", "--out", str(out),
              "--resume", folder.name, "--runner-bundle", str(bundle)]
    first = subprocess.Popen(resume, cwd=REPO, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: scan_rows(folder / "results.jsonl").count >= 3, "the first resume's rows", 60, 0.05)
        assert scan_rows(folder / "results.jsonl").count == 3, "the first resume wrote no row in time"
        sessions_before = json.loads((folder / "run.json").read_text())["sessions"]
        code = run_device.main(resume[3:])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert err[0] == (f"error: run {folder.name} is being written by another sweep ({folder / 'results.jsonl'} "
                          "is locked): let that sweep finish, or stop it, then resume")
        assert json.loads((folder / "run.json").read_text())["sessions"] == sessions_before
    finally:
        _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    keys = [(r["program_id"], r["launch_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 6 and [r["row_index"] for r in rows] == list(range(6))
