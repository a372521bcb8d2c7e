"""The command line end to end on the loopback device, with the real host runner and the small export."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from polling import wait_for
from sweep_fakes import runner_result_json, write_script_bundle

from bench import run_device
from formats.run_folder import scan_rows

REPO = Path(__file__).resolve().parents[2]
QUICK = ["--iterations", "3", "--warmup", "1", "--cooldown-s", "0", "--cooldown-max-s", "0"]


def only_run_folder(results_dir: Path) -> Path:
    (run_folder,) = [p for p in results_dir.iterdir() if p.is_dir()]
    return run_folder


def read_rows(results_dir: Path) -> list[dict]:
    results = only_run_folder(results_dir) / "results.jsonl"
    return [json.loads(line) for line in results.read_text().splitlines()]


def test_every_configuration_runs_with_real_runner_output(small_export, host_runner_bundle, tmp_path, capsys):
    manifest_path, manifest = small_export
    # .ptl programs (the 450 MB Lite runner): test_run_device_lite_loopback.py
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(tmp_path),
                            "--backends", "xnnpack,portable", "--launches", "2", *QUICK])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = read_rows(tmp_path)
    swept = [p for p in manifest.programs if p.role in ("full", "client") and p.format == "pte"]
    assert sorted((r["program_id"], r["launch_index"]) for r in rows) == \
        sorted((p.id, i) for p in swept for i in range(2))
    assert [r["row_index"] for r in rows] == list(range(len(rows)))
    configurations = [r["manifest_entry"]["configuration"] for r in rows]
    assert configurations[:2] == ["full", "full"]  # paper order: the full model first
    for row in rows:
        assert row["schema"] == "splitbench.result_row" and row["device"]["platform"] == "linux"
        assert row["launch_kind"] == ("first" if row["launch_index"] == 0 else "warm")
        assert row["status"] == "ok", row["runner_stderr"]
        timing = row["runner"]["timing"]
        assert len(timing["inference_ms"]) == 3 and timing["load_ms"] > 0
        assert row["runner"]["affinity"]["requested_core"] == row["core"]
        assert row["runner"]["output"]["shape"] == row["manifest_entry"]["output_shape"]
    dropped = [r["page_cache_dropped"] for r in rows if r["launch_index"] == 0]
    assert all(dropped) == rows[0]["device"]["can_drop_caches"]
    info = json.loads((only_run_folder(tmp_path) / "run.json").read_text())
    assert info["schema"] == "splitbench.run" and info["settings"]["launches"] == 2
    deploy = info["sessions"][0]["deploy"]
    assert deploy["files_pushed"] == deploy["files_checked"] > len(swept)
    assert deploy["push_s"] > 0 and deploy["hash_check_s"] > 0
    assert "sweep finished" in captured.err and "left ~" in captured.err


def test_a_crashing_runner_gives_crash_rows_and_the_sweep_goes_on(small_export, tmp_path, capsys):
    manifest_path, _ = small_export
    ok_json = json.dumps(runner_result_json())
    capabilities = json.dumps({"schema": "splitbench.runner_capabilities", "schema_version": 1, "data_files": True})
    bundle = write_script_bundle(tmp_path / "bundle", (  # the small export's programs need --data (data_files)
        'case "$*" in\n'
        f"  --version) echo {shlex.quote(capabilities)} ;;\n"
        '  *conv5_1_simple*) echo "about to crash" >&2; kill -SEGV $$ ;;\n'
        f"  *) echo {shlex.quote(ok_json)} ;;\n"
        "esac\n"))
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(tmp_path / "out"),
                            "--runner-bundle", str(bundle), "--configs", "full,conv5_1_simple,conv5_2_simple",
                            "--backends", "xnnpack", "--launches", "2", "--no-drop-caches", *QUICK])
    assert code == 0, capsys.readouterr().err
    rows = read_rows(tmp_path / "out")
    statuses = {(r["program_id"], r["launch_index"]): r["status"] for r in rows}
    assert statuses == {("full.xnnpack", 0): "ok", ("full.xnnpack", 1): "ok",
                        ("conv5_1_simple.xnnpack", 0): "runner_crash", ("conv5_1_simple.xnnpack", 1): "runner_crash",
                        ("conv5_2_simple.xnnpack", 0): "ok", ("conv5_2_simple.xnnpack", 1): "ok"}
    crash = next(r for r in rows if r["status"] == "runner_crash")
    assert crash["runner"] is None and crash["runner_exit_code"] == 128 + signal.SIGSEGV
    assert "about to crash" in crash["runner_stderr"]


def test_bad_input_is_one_clear_line_and_exit_code_2(small_export, tmp_path, capsys):
    manifest_path, _ = small_export
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(tmp_path),
                            "--configs", "conv9_9_simple"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [err[0]] and err[0].startswith("error: --configs names conv9_9_simple")
    assert run_device.main(["--serial", "loopback", "--manifest", str(tmp_path / "none.json"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(tmp_path),
                            "--core", "64", "--backends", "xnnpack", "--configs", "full"]) == 2
    assert "core 64 is not online" in capsys.readouterr().err
    assert run_device.main(["--serial", "127.0.0.1:1", "--manifest", str(manifest_path), "--out", str(tmp_path)]) == 2
    assert "no ADB device answered at 127.0.0.1:1" in capsys.readouterr().err
    assert run_device.main(["--serial", "loopback", "--out", str(tmp_path), "--resume", "r1", "--iterations", "5"]) == 2
    assert "--resume continues with the run's own settings; leave out --iterations" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [] or all(p.name == "none.json" for p in tmp_path.iterdir())


def test_ctrl_c_keeps_rows_prints_resume_command_and_resume_finishes(small_export, host_runner_bundle, tmp_path):
    manifest_path, _ = small_export
    out = tmp_path / "out"
    # the script imports the installed package; PYTHONPATH makes that this checkout whichever one is installed
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    command = [sys.executable, str(REPO / "bench" / "run_device.py"), "--serial", "loopback",
               "--manifest", str(manifest_path), "--out", str(out), "--backends", "xnnpack,portable",
               "--launches", "2", "--no-drop-caches", *QUICK]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def results_with_three_rows() -> Path | None:
        found = list(out.glob("*/results.jsonl")) if out.exists() else []
        return found[0] if found and scan_rows(found[0]).count >= 3 else None

    results = wait_for(results_with_three_rows, "three rows of the sweep", 120)
    assert results is not None, "the sweep wrote no rows in time"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    kept = scan_rows(results)
    assert kept.count >= 3 and kept.truncated_tail_bytes == 0
    resume_lines = [line for line in err.splitlines() if line.startswith("resume with: ")]
    assert len(resume_lines) == 1
    resume = shlex.split(resume_lines[0][len("resume with: "):])
    assert resume[-2:] == ["--resume", results.parent.name]

    finished = subprocess.run(resume, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    keys = [(r["program_id"], r["launch_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 2 * 16  # 8 configurations x 2 backends x 2 launches, none twice
    assert [r["row_index"] for r in rows] == list(range(len(rows)))
    info = json.loads((results.parent / "run.json").read_text())
    assert [s["end"] for s in info["sessions"]] == ["interrupted", "complete"]


def test_a_device_lost_for_good_is_a_partial_sweep_with_exit_code_1(small_export, host_runner_bundle, tmp_path,
                                                                     capsys, monkeypatch):
    from bench.adb.connection import connect
    from loopback import LoopbackDevice

    manifest_path, _ = small_export
    with LoopbackDevice(tmp_path / "sandbox") as device:
        @contextlib.contextmanager
        def this_device(serial_spec, key_path=None, **_transport):
            yield lambda: connect(device.serial)

        def vanish_at_the_third_launch(event):
            if event.phase == "launch" and event.done_launches == 2:
                device.refuse_connections(30)

        monkeypatch.setattr(run_device, "device_connector", this_device)
        monkeypatch.setattr(run_device, "print_progress", vanish_at_the_third_launch)
        code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(tmp_path / "out"),
                                "--configs", "full,conv5_1_simple", "--backends", "xnnpack", "--launches", "2",
                                "--reconnect-attempts", "0", "--no-drop-caches", *QUICK])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-2].startswith("error: lost the device") and err[-1].startswith("resume with: ")
    assert len(read_rows(tmp_path / "out")) == 2
