"""Sweeps through Debian's real adb server (a private one per test, on its own port) and several devices at once:
one loopback device attached with `adb connect`, then a host loopback device and an arm64 one in parallel, a
failing device beside a working one, `--serial all`, and Ctrl-C of a group with its one resume command."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from adb_server_fixtures import private_server
from android_bundle_builds import ensure_android_bundle
from polling import wait_for
from test_run_device_loopback import QUICK

from bench import run_device
from formats.run_folder import GROUP_FILE, read_group, scan_rows
from loopback import LoopbackDevice

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SMALL = ["--configs", "full,conv5_1_simple", "--backends", "xnnpack", "--launches", "2", "--no-drop-caches",
         "--no-core-peak", *QUICK]


@pytest.fixture
def adb_server(tmp_path):
    yield from private_server(tmp_path)


def run_folders(folder: Path) -> dict[str, Path]:
    """serial -> run folder, for the run folders in `folder`."""
    found = {}
    for run_file in folder.glob("*/run.json"):
        found[json.loads(run_file.read_text())["serial_spec"]] = run_file.parent
    return found


def rows_of(run_folder: Path) -> list[dict]:
    return [json.loads(line) for line in (run_folder / "results.jsonl").read_text().splitlines()]


def the_group(out: Path) -> Path:
    (group,) = [path.parent for path in out.glob(f"*/{GROUP_FILE}")]
    return group


def test_one_device_swept_through_the_adb_server(small_export, host_runner_bundle, adb_server, device, tmp_path,
                                                 capsys):
    manifest_path, _ = small_export
    serial = adb_server.attach(device)
    code = run_device.main(["--serial", serial, "--transport", "server", "--adb-server", adb_server.text,
                            "--manifest", str(manifest_path), "--out", str(tmp_path / "out"), *SMALL])
    assert code == 0, capsys.readouterr().err
    (folder,) = run_folders(tmp_path / "out").values()
    rows = rows_of(folder)
    assert len(rows) == 2 * 2 and {row["status"] for row in rows} == {"ok"}
    assert {(row["device"]["transport"], row["device"]["adb_server"]) for row in rows} == {("server", adb_server.text)}
    info = json.loads((folder / "run.json").read_text())
    assert info["device"]["transport"] == "server"


def test_a_host_and_an_arm64_device_in_parallel_through_the_server(small_export, host_runner_bundle, adb_server,
                                                                  tmp_path, capfd):
    ensure_android_bundle("arm64-v8a")
    manifest_path, _ = small_export
    with LoopbackDevice(tmp_path / "host-sandbox") as host, \
            LoopbackDevice(tmp_path / "arm64-sandbox", abi="arm64-v8a") as phone:
        serials = [adb_server.attach(host), adb_server.attach(phone)]
        code = run_device.main(["--serial", ",".join(serials), "--transport", "server", "--adb-server", adb_server.text,
                                "--manifest", str(manifest_path), "--out", str(tmp_path / "out"), *SMALL])
    out, err = capfd.readouterr()
    assert code == 0, err
    group = the_group(tmp_path / "out")
    folders = run_folders(group)
    assert set(folders) == set(serials)
    for serial, abi in zip(serials, ("x86_64", "arm64-v8a"), strict=True):
        rows = rows_of(folders[serial])
        assert len(rows) == 4 and {row["status"] for row in rows} == {"ok"}, serial
        assert {row["device"]["abi"] for row in rows} == {abi}
        assert {row["device"]["transport"] for row in rows} == {"server"}
    recorded = read_group(tmp_path / "out", group.name)
    assert [(m.serial, m.exit_code, m.run_id) for m in recorded.members] == \
        [(serial, 0, folders[serial].name) for serial in serials]
    assert f"[{serials[1]}] run " in err  # each device's own lines, named
    assert "resume with:" not in err


def test_a_failing_device_ends_with_its_status_while_the_other_finishes(small_export, host_runner_bundle, adb_server,
                                                                        device, tmp_path, capfd):
    manifest_path, _ = small_export
    serial = adb_server.attach(device)
    code = run_device.main(["--serial", f"{serial},10.9.9.9:5555", "--transport", "server",
                            "--adb-server", adb_server.text, "--manifest", str(manifest_path),
                            "--out", str(tmp_path / "out"), *SMALL])
    _, err = capfd.readouterr()
    assert code == 1, err
    group = read_group(tmp_path / "out", the_group(tmp_path / "out").name)
    assert [(m.serial, m.exit_code) for m in group.members] == [(serial, 0), ("10.9.9.9:5555", 2)]
    assert f"[10.9.9.9:5555] error: the adb server at {adb_server.text} does not know 10.9.9.9:5555" in err
    assert len(rows_of(run_folders(the_group(tmp_path / "out"))[serial])) == 4
    resume_lines = [line for line in err.splitlines() if line.startswith("resume with:")]
    assert len(resume_lines) == 1 and "continues 10.9.9.9:5555" in resume_lines[0]


def test_serial_all_sweeps_every_device_the_server_lists(small_export, host_runner_bundle, adb_server, device,
                                                         tmp_path, capfd):
    manifest_path, _ = small_export
    serial = adb_server.attach(device)
    code = run_device.main(["--serial", "all", "--adb-server", adb_server.text, "--manifest", str(manifest_path),
                            "--out", str(tmp_path / "out"), *SMALL])
    assert code == 0, capfd.readouterr().err
    folders = run_folders(the_group(tmp_path / "out"))
    assert list(folders) == [serial]
    assert {row["device"]["transport"] for row in rows_of(folders[serial])} == {"server"}  # auto chose the server


def test_ctrl_c_stops_every_device_and_one_resume_finishes_them_all(small_export, host_runner_bundle, tmp_path):
    manifest_path, _ = small_export
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "bench.run_device", "--serial", "loopback,loopback", "--manifest",
               str(manifest_path), "--out", str(out), "--configs", "full,conv5_1_simple,conv5_3_reduced",
               "--backends", "xnnpack,portable", "--launches", "2", "--no-drop-caches", "--no-core-peak", *QUICK]
    # the same serial twice is refused; two loopback devices need two names
    refused = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "names loopback more than once" in refused.stderr
    command[command.index("loopback,loopback")] = "loopback,loopback-arm64"
    ensure_android_bundle("arm64-v8a")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def both_have_rows() -> bool:
        files = list(out.glob("*/*/results.jsonl")) if out.exists() else []
        return len(files) == 2 and all(scan_rows(path).count >= 1 for path in files)

    wait_for(both_have_rows, "a row from each device", 240)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    resume_lines = [line for line in err.splitlines() if line.startswith("resume with: ")]
    assert len(resume_lines) == 1, err
    resume = shlex.split(resume_lines[0][len("resume with: "):].split("   (")[0])
    group = the_group(out)
    assert resume[-2:] == ["--resume", group.name]
    stopped = {m.serial: m.exit_code for m in read_group(out, group.name).members}
    assert set(stopped.values()) <= {130, 0} and 130 in stopped.values()

    finished = subprocess.run(resume, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    for serial, folder in run_folders(group).items():
        rows = rows_of(folder)
        keys = [(row["program_id"], row["launch_index"]) for row in rows]
        assert len(keys) == len(set(keys)) == 3 * 2 * 2  # 3 configurations x 2 backends x 2 launches, none twice
        sessions = json.loads((folder / "run.json").read_text())["sessions"]
        assert [s["end"] for s in sessions] == (["interrupted", "complete"] if stopped[serial] == 130 else ["complete"])


def test_a_device_that_goes_away_mid_sweep_ends_with_its_rows_while_the_other_finishes(
        small_export, host_runner_bundle, adb_server, tmp_path):
    manifest_path, _ = small_export
    out = tmp_path / "out"
    with LoopbackDevice(tmp_path / "stays") as stays:
        leaves = LoopbackDevice(tmp_path / "leaves")
        leaves.start()
        try:
            serials = [adb_server.attach(stays), adb_server.attach(leaves)]
            env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.run_device", "--serial", ",".join(serials), "--transport", "server",
                 "--adb-server", adb_server.text, "--manifest", str(manifest_path), "--out", str(out),
                 "--backends", "xnnpack", "--launches", "3", "--reconnect-attempts", "0", "--no-drop-caches",
                 "--no-core-peak", *QUICK], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def leaving_device_has_rows() -> bool:
                files = [path for path in out.glob("*/*/results.jsonl") if serials[1].replace(":", "-") in str(path)]
                return bool(files) and scan_rows(files[0]).count >= 2

            wait_for(leaving_device_has_rows, "two rows from the device that will leave", 120)
        finally:
            leaves.stop()
        _, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    group = read_group(out, the_group(out).name)
    assert [(m.serial, m.exit_code) for m in group.members] == [(serials[0], 0), (serials[1], 1)]
    folders = run_folders(the_group(out))
    assert len(rows_of(folders[serials[0]])) == 8 * 3  # every program of the small export, 3 launches
    kept = rows_of(folders[serials[1]])
    assert 2 <= len(kept) < 8 * 3
    assert f"[{serials[1]}] error:" in err
    assert len([line for line in err.splitlines() if line.startswith("resume with:")]) == 1
