"""Faults during a sweep on the loopback device: the device vanishing, a dropped connection,
a corrupt program, too little storage. Rows must be neither lost nor repeated."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from bench.adb.connection import connect
from bench.adb.reconnect import DeviceLink
from bench.errors import InsufficientStorage, SweepStopped
from bench.sweep.run import RunRequest, execute_run, open_run
from bench.sweep.settings import SweepConfig
from formats.run_folder import scan_rows
from loopback import FaultPlan, LoopbackDevice

CONFIGS = ("full", "conv5_1_simple", "conv5_2_reduced")


def quick_config(**overrides) -> SweepConfig:
    values = dict(iterations=2, warmup=0, launches=2, cooldown_s=0, cooldown_max_s=0, configurations=CONFIGS,
                  backends=("xnnpack",), drop_caches=False, reconnect_attempts=1, reconnect_backoff_s=0.2)
    values.update(overrides)
    return SweepConfig(**values)


def sweep_on(device: LoopbackDevice, request: RunRequest, on_progress=None):
    opened = open_run(request)
    link = DeviceLink(lambda: connect(device.serial), attempts=opened.config.reconnect_attempts,
                      backoff_s=opened.config.reconnect_backoff_s)
    try:
        return opened, execute_run(opened, request, link, on_progress=on_progress)
    finally:
        link.close()


def row_keys(results_path: Path) -> list[tuple[str, int]]:
    return [(r["program_id"], r["launch_index"]) for r in map(json.loads, results_path.read_text().splitlines())]


ALL_KEYS = sorted((f"{c}.xnnpack", i) for c in CONFIGS for i in range(2))


def test_device_vanishing_mid_sweep_stops_and_resume_finishes_without_loss_or_repeats(
        small_export, host_runner_bundle, tmp_path):
    manifest_path, _ = small_export
    request = RunRequest(serial_spec="loopback", results_dir=tmp_path / "out", manifest_path=manifest_path,
                         config=quick_config())
    sandbox = tmp_path / "sandbox"
    with LoopbackDevice(sandbox) as device:
        def vanish_before_fourth_launch(event):
            if event.phase == "launch" and event.done_launches == 3:
                device.refuse_connections(30)

        with pytest.raises(SweepStopped, match="could not reconnect") as stopped:
            sweep_on(device, request, on_progress=vanish_before_fourth_launch)
    run_id = stopped.value.run_id
    results = tmp_path / "out" / run_id / "results.jsonl"
    assert row_keys(results) == [("full.xnnpack", 0), ("full.xnnpack", 1), ("conv5_1_simple.xnnpack", 0)]

    resume = RunRequest(serial_spec="loopback", results_dir=tmp_path / "out", resume_run_id=run_id)
    with LoopbackDevice(sandbox) as device:  # the device is back (same storage)
        opened, report = sweep_on(device, resume)
    assert report.summary.rows_written == 3 and report.summary.rows_already_done == 3
    assert report.deploy.files_pushed == 0  # everything was already there
    keys = row_keys(results)
    assert sorted(keys) == ALL_KEYS and len(keys) == len(set(keys))
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["row_index"] for r in rows] == list(range(6))
    info = json.loads((results.parent / "run.json").read_text())
    assert info["sessions"][0]["end"].startswith("stopped: lost the device")
    assert info["sessions"][1]["end"] == "complete"


def test_a_connection_dropped_at_a_launch_is_reconnected_and_the_launch_redone(small_export, host_runner_bundle, tmp_path):
    manifest_path, _ = small_export
    request = RunRequest(serial_spec="loopback", results_dir=tmp_path / "out", manifest_path=manifest_path,
                         config=quick_config(reconnect_attempts=3))
    faults = FaultPlan()
    with LoopbackDevice(tmp_path / "sandbox", faults=faults) as device:
        def drop_the_fourth_launch(event):
            if event.phase == "launch" and event.done_launches == 3:
                faults.drop_after_commands = device.faults.commands_opened  # the launch's shell stream

        opened, report = sweep_on(device, request, on_progress=drop_the_fourth_launch)
    assert report.summary.reconnections == 1
    keys = row_keys(opened.folder.results_path)
    assert sorted(keys) == ALL_KEYS and len(keys) == len(set(keys))
    assert report.summary.statuses == {"ok": 6}


def test_a_corrupt_program_gives_a_runner_error_row_and_the_sweep_goes_on(small_export, host_runner_bundle, tmp_path):
    manifest_path, _ = small_export
    export_copy = tmp_path / "export"
    shutil.copytree(manifest_path.parent, export_copy)
    manifest = json.loads((export_copy / manifest_path.name).read_text())
    entry = next(p for p in manifest["programs"] if p["id"] == "conv5_1_simple.xnnpack")
    corrupt = export_copy / entry["file"]
    corrupt.write_bytes(b"this is not an ExecuTorch program" * 100)
    entry["sha256"] = hashlib.sha256(corrupt.read_bytes()).hexdigest()
    entry["size_bytes"] = corrupt.stat().st_size
    (export_copy / manifest_path.name).write_text(json.dumps(manifest))

    request = RunRequest(serial_spec="loopback", results_dir=tmp_path / "out",
                         manifest_path=export_copy / manifest_path.name, config=quick_config())
    with LoopbackDevice(tmp_path / "sandbox") as device:
        opened, report = sweep_on(device, request)
    rows = [json.loads(line) for line in opened.folder.results_path.read_text().splitlines()]
    by_status = {(r["program_id"], r["status"]) for r in rows}
    assert by_status == {("full.xnnpack", "ok"), ("conv5_1_simple.xnnpack", "runner_error"),
                         ("conv5_2_reduced.xnnpack", "ok")}
    failed = next(r for r in rows if r["status"] == "runner_error")
    assert failed["runner"]["status"] == "error" and failed["runner"]["error_kind"] == "model_corrupt"
    assert failed["runner_exit_code"] != 0


def test_too_little_storage_is_a_clear_error_before_any_push_and_the_run_resumes(small_export, host_runner_bundle, tmp_path):
    manifest_path, _ = small_export
    request = RunRequest(serial_spec="loopback", results_dir=tmp_path / "out", manifest_path=manifest_path,
                         config=quick_config())
    sandbox = tmp_path / "sandbox"
    with LoopbackDevice(sandbox, storage_quota_bytes=1_000_000) as device:
        with pytest.raises(InsufficientStorage, match=r"needs [\d.]+ MB free .* but has [\d.]+ MB; free space"):
            sweep_on(device, request)
    assert not any(p.is_file() for p in (sandbox / "splitbench").rglob("*"))  # nothing was pushed
    (run_folder,) = (tmp_path / "out").iterdir()
    assert scan_rows(run_folder / "results.jsonl").count == 0

    resume = RunRequest(serial_spec="loopback", results_dir=tmp_path / "out", resume_run_id=run_folder.name)
    with LoopbackDevice(sandbox) as device:
        opened, report = sweep_on(device, resume)
    assert sorted(row_keys(opened.folder.results_path)) == ALL_KEYS
