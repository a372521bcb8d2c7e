"""Two sweeps, one device: the device-side sweep lock (bench.sweep.device_lock) on a loopback device that both
sweeps reach at 127.0.0.1:PORT, and the per-launch output files."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from polling import wait_for
from sweep_fakes import runner_result_json, write_manifest, write_script_bundle

from bench import run_device
from formats.run_folder import scan_rows
from loopback import LoopbackDevice

REPO = Path(__file__).resolve().parents[2]
QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches"]
CONFIGS = ["full", "conv5_1_simple", "conv5_2_simple"]


def marked_bundle(folder: Path, mark: str, sleep_s: float = 0.0) -> Path:
    result = dict(runner_result_json(), runner={"version": mark})
    return write_script_bundle(folder, f"sleep {sleep_s}; echo {shlex.quote(json.dumps(result))}\n")


@pytest.fixture
def shared_device(tmp_path):
    with LoopbackDevice(tmp_path / "sandbox") as device:
        yield device


def sweep_argv(device, tmp_path, bundle, out_name, key_name="key") -> list[str]:
    return ["--serial", device.serial, "--adb-key", str(tmp_path / key_name), "--manifest",
            str(write_manifest(tmp_path / "export", CONFIGS)), "--out", str(tmp_path / out_name),
            "--runner-bundle", str(bundle), "--launches", "2", *QUICK]


def rows_of(out: Path) -> list[dict]:
    (results,) = out.glob("*/results.jsonl")
    return [json.loads(line) for line in results.read_text().splitlines()]


def lock_dir(device) -> Path:
    return device.sandbox / "splitbench" / "sweep.lock"


@pytest.mark.slow
def test_a_second_sweep_on_a_busy_device_stops_naming_the_first(shared_device, tmp_path, capsys):
    bundle_a = marked_bundle(tmp_path / "bundle_a", "sweep-a", sleep_s=0.3)
    bundle_b = marked_bundle(tmp_path / "bundle_b", "sweep-b")
    first = subprocess.Popen([sys.executable, "-m", "bench.run_device",
                              *sweep_argv(shared_device, tmp_path, bundle_a, "out_a", "key_a")],
                             cwd=REPO, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def first_row_written() -> bool:
            found = list((tmp_path / "out_a").glob("*/results.jsonl"))
            return bool(found) and scan_rows(found[0]).count >= 1

        wait_for(first_row_written, "the first sweep's first row", 60, 0.05)
        (run_a,) = [p.name for p in (tmp_path / "out_a").iterdir()]
        code = run_device.main(sweep_argv(shared_device, tmp_path, bundle_b, "out_b", "key_b"))
        err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    finally:
        _, first_err = first.communicate(timeout=120)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"error: {shared_device.serial} is in use by another sweep: run {run_a} on host "
                             f"{socket.gethostname()} (pid {first.pid}) since 20")
    assert "wait for it to finish (or stop it), then run again" in err[0]
    assert not (tmp_path / "out_b").exists() or not any((tmp_path / "out_b").iterdir())  # B left no run behind
    assert first.returncode == 0, first_err
    rows = rows_of(tmp_path / "out_a")
    assert len(rows) == 6 and {r["status"] for r in rows} == {"ok"}
    assert {r["runner"]["runner"]["version"] for r in rows} == {"sweep-a"}
    assert not lock_dir(shared_device).exists()  # released at the end


def test_launch_outputs_are_per_launch_files_removed_after_reading(shared_device, tmp_path, capsys):
    bundle = marked_bundle(tmp_path / "bundle", "only")
    assert run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out")) == 0, capsys.readouterr().err
    assert len(rows_of(tmp_path / "out")) == 6
    root = shared_device.sandbox / "splitbench"
    leftovers = [p.relative_to(root).as_posix() for p in root.rglob("*")
                 if p.suffix in (".stdout", ".stderr", ".txt", ".pid") or p.name in ("sweep.lock", "runs")
                 and any(p.iterdir())]
    assert leftovers == []


def write_lock(device, *, run_id: str, host: str, pid: int, heartbeat_age_s: float, stale_after_s: float = 60) -> None:
    lock = lock_dir(device)
    lock.mkdir(parents=True)
    (lock / "owner").write_text(f"run_id={run_id}\nhost={host}\npid={pid}\npid_start=\nstarted_utc=2026-11-23T09:00:00Z\n"
                                f"token=0123456789abcdef\nstale_after_s={stale_after_s}\n")
    (lock / "heartbeat").write_text("")
    old = time.time() - heartbeat_age_s
    os.utime(lock / "heartbeat", (old, old))


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("owner, reason", [
    (dict(host=socket.gethostname(), heartbeat_age_s=0), r"on this host, is gone"),
    (dict(host="elsewhere.example", heartbeat_age_s=3600), r"heartbeat is 36\d\d s old \(stale after 60 s\)"),
])
def test_a_stale_lock_of_a_dead_sweep_is_taken_over_and_recorded(shared_device, tmp_path, capsys, owner, reason):
    write_lock(shared_device, run_id="20261123T090000Z-old-abcdef", pid=dead_pid(), **owner)
    bundle = marked_bundle(tmp_path / "bundle", "new")
    assert run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out")) == 0, capsys.readouterr().err
    (run_json,) = (tmp_path / "out").glob("*/run.json")
    takeover = json.loads(run_json.read_text())["sessions"][-1]["device_lock_takeover"]
    assert takeover["previous_owner"]["run_id"] == "20261123T090000Z-old-abcdef"
    assert re.search(reason, takeover["reason"]) and takeover["taken_utc"]
    assert not lock_dir(shared_device).exists()


def test_a_live_lock_of_another_host_is_respected(shared_device, tmp_path, capsys):
    write_lock(shared_device, run_id="20261123T090000Z-phone-abcdef", host="elsewhere.example", pid=4242,
               heartbeat_age_s=5, stale_after_s=3600)
    bundle = marked_bundle(tmp_path / "bundle", "new")
    code = run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out"))
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(err) == 1
    assert ("is in use by another sweep: run 20261123T090000Z-phone-abcdef on host elsewhere.example (pid 4242) "
            "since 2026-11-23T09:00:00Z, last seen ") in err[0]
    assert (lock_dir(shared_device) / "owner").read_text().startswith("run_id=20261123T090000Z-phone-abcdef")


def test_a_sweep_whose_lock_was_taken_stops_before_its_next_launch(shared_device, tmp_path, capsys, monkeypatch):
    bundle = marked_bundle(tmp_path / "bundle", "first")

    def take_the_lock_at_the_third_launch(event):
        if event.phase == "launch" and event.done_launches == 2:
            owner = lock_dir(shared_device) / "owner"
            owner.write_text(owner.read_text().replace("token=", "token=other").replace("run_id=", "run_id=thief-"))

    monkeypatch.setattr(run_device, "print_progress", take_the_lock_at_the_third_launch)
    code = run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-2].startswith("error: this sweep's lock on the device was taken over by run thief-")
    assert err[-1].startswith("resume with: ")
    assert len(rows_of(tmp_path / "out")) == 2
    assert (lock_dir(shared_device) / "owner").exists()  # the other sweep's lock is left alone


def takeover_turn(device) -> Path:
    """The turn another sweep takes while it takes over the lock written by write_lock (its token)."""
    return device.sandbox / "splitbench" / "sweep.lock.takeover-0123456789abcdef"


def test_a_stale_lock_another_sweep_is_taking_over_is_left_to_it(shared_device, tmp_path, capsys):
    write_lock(shared_device, run_id="20261123T090000Z-old-abcdef", host="elsewhere.example", pid=4242,
               heartbeat_age_s=3600)
    takeover_turn(shared_device).mkdir()  # another sweep is between its check and its move
    bundle = marked_bundle(tmp_path / "bundle", "new")
    code = run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out"))
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(err) == 1, err
    assert "could not take over the stale sweep lock" in err[0] and "is taking it over" in err[0]
    assert (lock_dir(shared_device) / "owner").read_text().startswith("run_id=20261123T090000Z-old-abcdef")
    assert takeover_turn(shared_device).is_dir()  # the other sweep's turn is left alone


def test_a_takeover_turn_left_by_a_dead_sweep_is_cleared(shared_device, tmp_path, capsys):
    write_lock(shared_device, run_id="20261123T090000Z-old-abcdef", host="elsewhere.example", pid=4242,
               heartbeat_age_s=3600)
    turn = takeover_turn(shared_device)
    turn.mkdir()
    old = time.time() - 600
    os.utime(turn, (old, old))
    bundle = marked_bundle(tmp_path / "bundle", "new")
    assert run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out")) == 0, capsys.readouterr().err
    (run_json,) = (tmp_path / "out").glob("*/run.json")
    takeover = json.loads(run_json.read_text())["sessions"][-1]["device_lock_takeover"]
    assert takeover["previous_owner"]["run_id"] == "20261123T090000Z-old-abcdef"
    assert not turn.exists() and not lock_dir(shared_device).exists()
    assert not list((shared_device.sandbox / "splitbench").glob("sweep.lock.*"))


def test_an_ownerless_lock_is_taken_only_while_it_is_old(shared_device, tmp_path, capsys):
    lock = lock_dir(shared_device)
    lock.mkdir(parents=True)  # a sweep that has made the lock and not yet written its owner file
    bundle = marked_bundle(tmp_path / "bundle", "new")
    code = run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out"))
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert code == 2 and "in use by another sweep: a sweep that is still starting" in err[0], err
    assert lock.is_dir()
    old = time.time() - 3600  # ... or one that died there an hour ago
    os.utime(lock, (old, old))
    assert run_device.main(sweep_argv(shared_device, tmp_path, bundle, "out2")) == 0, capsys.readouterr().err
    assert not lock.exists()
