"""A whole run through execute_run on a host-sandbox connection with a script runner:
deploy errors as rows, progress events, and what --resume refuses."""

from __future__ import annotations

import hashlib
import json
import shlex

import pytest
from sweep_fakes import HostSandboxConnection, runner_result_json, write_manifest, write_script_bundle

from bench.adb.reconnect import DeviceLink
from bench.sweep.run import RunRequest, execute_run, open_run
from bench.sweep.settings import SweepConfig
from formats.errors import ResultsError

CONFIGS = ["full", "conv5_1_simple", "conv5_2_simple"]


@pytest.fixture
def world(tmp_path):
    bundle = write_script_bundle(tmp_path / "bundle", f"echo {shlex.quote(json.dumps(runner_result_json()))}\n")
    manifest = write_manifest(tmp_path / "export", CONFIGS)
    connection = HostSandboxConnection(tmp_path / "sandbox")
    return tmp_path, bundle, manifest, connection


def run(request: RunRequest, connection, on_progress=None):
    opened = open_run(request)
    return opened, execute_run(opened, request, DeviceLink(lambda: connection, attempts=0), on_progress=on_progress)


def new_request(tmp_path, bundle, manifest, **config) -> RunRequest:
    settings = dict(iterations=2, launches=2, cooldown_s=0, cooldown_max_s=0, drop_caches=False)
    settings.update(config)
    return RunRequest(serial_spec="host", results_dir=tmp_path / "out", manifest_path=manifest,
                      config=SweepConfig(**settings), runner_bundle_dir=bundle)


def test_a_model_that_could_not_be_pushed_gives_deploy_error_rows(world):
    tmp_path, bundle, manifest, connection = world
    (tmp_path / "export" / "conv5_1_simple.xnnpack.pte").write_bytes(b"y" * 5000)  # bigger than the quota
    data = json.loads(manifest.read_text())
    entry = next(p for p in data["programs"] if p["configuration"] == "conv5_1_simple")
    entry["size_bytes"], entry["sha256"] = 5000, hashlib.sha256(b"y" * 5000).hexdigest()
    manifest.write_text(json.dumps(data))
    connection.quota_bytes = 4000
    opened, report = run(new_request(tmp_path, bundle, manifest), connection)
    rows = [json.loads(line) for line in opened.folder.results_path.read_text().splitlines()]
    assert [(r["program_id"], r["status"]) for r in rows] == [
        ("full.xnnpack", "ok"), ("full.xnnpack", "ok"),
        ("conv5_1_simple.xnnpack", "deploy_error"), ("conv5_1_simple.xnnpack", "deploy_error"),
        ("conv5_2_simple.xnnpack", "ok"), ("conv5_2_simple.xnnpack", "ok")]
    assert "no space left" in rows[2]["runner_stderr"] and rows[2]["runner"] is None


def test_progress_events_count_up_and_estimate_the_time_left(world):
    tmp_path, bundle, manifest, connection = world
    events = []
    run(new_request(tmp_path, bundle, manifest, cooldown_s=0.01, cooldown_max_s=0.01), connection, events.append)
    launches = [e for e in events if e.phase == "launch"]
    assert [e.done_launches for e in launches] == list(range(6))
    assert [(e.program_number, e.launch_index) for e in launches] == [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]
    assert launches[0].remaining_s is None and all(e.remaining_s is not None for e in launches[1:])
    assert launches[-1].remaining_s < launches[1].remaining_s
    assert [e.phase for e in events].count("cooldown") == 2
    assert events[-1].phase == "done" and events[-1].done_launches == events[-1].total_launches == 6


def test_resume_refuses_a_changed_manifest_and_another_device(world):
    tmp_path, bundle, manifest, connection = world
    opened, _ = run(new_request(tmp_path, bundle, manifest, configurations=("full",)), connection)
    resume = RunRequest(serial_spec="host", results_dir=tmp_path / "out", resume_run_id=opened.run_id,
                        runner_bundle_dir=bundle)
    info = json.loads(opened.folder.run_path.read_text())
    info["device"]["model"] = "Nexus 6P"
    opened.folder.run_path.write_text(json.dumps(info))
    with pytest.raises(ResultsError, match="measured on another device \\(model 'Nexus 6P' -> None\\)"):
        run(resume, connection)
    manifest.write_text(manifest.read_text() + " ")
    with pytest.raises(ResultsError, match="changed since run .* started"):
        open_run(resume)


def test_resume_of_a_finished_run_writes_nothing_and_keeps_settings(world):
    tmp_path, bundle, manifest, connection = world
    opened, _ = run(new_request(tmp_path, bundle, manifest, iterations=4), connection)
    before = opened.folder.results_path.read_bytes()
    resume = RunRequest(serial_spec="host", results_dir=tmp_path / "out", resume_run_id=opened.run_id,
                        runner_bundle_dir=bundle)
    reopened, report = run(resume, connection)
    assert reopened.config.iterations == 4 and report.summary.rows_written == 0
    assert report.summary.rows_already_done == 6
    assert opened.folder.results_path.read_bytes() == before


def test_resume_after_a_crash_mid_write_remeasures_the_cut_row_once(world):
    tmp_path, bundle, manifest, connection = world
    opened, _ = run(new_request(tmp_path, bundle, manifest), connection)
    lines = opened.folder.results_path.read_text().splitlines(keepends=True)
    cut = lines[-1][: len(lines[-1]) // 2]  # the process died while writing the last row
    opened.folder.results_path.write_text("".join(lines[:-1]) + cut)
    resume = RunRequest(serial_spec="host", results_dir=tmp_path / "out", resume_run_id=opened.run_id,
                        runner_bundle_dir=bundle)
    reopened, report = run(resume, connection)
    assert reopened.repaired_tail_bytes == len(cut) and report.summary.rows_written == 1
    rows = [json.loads(line) for line in opened.folder.results_path.read_text().splitlines()]
    assert [r["row_index"] for r in rows] == list(range(6))
    assert (rows[-1]["program_id"], rows[-1]["launch_index"]) == ("conv5_2_simple.xnnpack", 1)
    sessions = json.loads(opened.folder.run_path.read_text())["sessions"]
    assert sessions[-1]["repaired_tail_bytes"] == len(cut) and sessions[-1]["rows_written"] == 1
