"""Numbers you can trust, on the sweep's side: launches are added until the median's interval is narrow enough
(--target-ci-pct, capped by --max-launches), and the pinned core's measured peak lands in the device facts."""

from __future__ import annotations

import json
import shlex

import pytest
from sweep_fakes import HostSandboxConnection, runner_result_json, write_manifest, write_script_bundle

from bench.adb.reconnect import DeviceLink
from bench.errors import SettingsError
from bench.sweep.run import RunRequest, execute_run, open_run
from bench.sweep.settings import SweepConfig

# A runner whose launches disagree: each launch's times sit 10 ms above the previous launch's (a counter beside
# the script), so the interval over launches stays wide.
SHIFTING_RUNNER = """
count_file="$(dirname "$0")/launches"
n=$(cat "$count_file" 2>/dev/null || echo 0); echo $((n + 1)) > "$count_file"
level=$((100 + n * 10))
printf '{"schema": "splitbench.runner_result", "schema_version": 1, "status": "ok", "error_kind": null, "message": null, "timing": {"load_ms": 3.0, "first_inference_ms": 4.0, "warmup_ms": [4.0], "inference_ms": [%s, %s, %s]}}\\n' $level $level $level
"""
PEAK = {"schema": "splitbench.core_peak", "schema_version": 1, "status": "ok", "core": 0, "peak_gflops": 117.0,
        "kernel": {"isa": "avx512f"}}


def run_sweep_with(tmp_path, runner_script: str, **config):
    bundle = write_script_bundle(tmp_path / "bundle", runner_script)
    manifest = write_manifest(tmp_path / "export", ["full"])
    settings = dict(iterations=3, launches=2, cooldown_s=0, cooldown_max_s=0, drop_caches=False, core=0)
    settings.update(config)
    request = RunRequest(serial_spec="host", results_dir=tmp_path / "out", manifest_path=manifest,
                         config=SweepConfig(**settings), runner_bundle_dir=bundle)
    opened = open_run(request)
    events = []
    execute_run(opened, request, DeviceLink(lambda: HostSandboxConnection(tmp_path / "sandbox"), attempts=0),
                on_progress=events.append)
    rows = [json.loads(line) for line in opened.folder.results_path.read_text().splitlines()]
    return rows, json.loads(opened.folder.run_path.read_text()), events


def test_launches_are_added_until_the_cap_when_the_interval_stays_wide(tmp_path):
    rows, _, events = run_sweep_with(tmp_path, SHIFTING_RUNNER, target_ci_pct=0.5, max_launches=5)
    assert [row["launch_index"] for row in rows] == [0, 1, 2, 3, 4]
    assert [row["row_index"] for row in rows] == [0, 1, 2, 3, 4]
    assert {row["status"] for row in rows} == {"ok"}
    precision = [event for event in events if event.phase == "precision"]
    assert len(precision) == 3 and "extra launch 3 (at most 5)" in precision[0].message


def test_no_launch_is_added_when_the_interval_is_narrow_or_the_rule_is_off(tmp_path):
    steady = f"echo {shlex.quote(json.dumps(runner_result_json()))}\n"
    rows, _, _ = run_sweep_with(tmp_path / "narrow", steady, target_ci_pct=0.5, max_launches=5)
    assert [row["launch_index"] for row in rows] == [0, 1]
    rows, _, _ = run_sweep_with(tmp_path / "off", SHIFTING_RUNNER)
    assert [row["launch_index"] for row in rows] == [0, 1]


def test_precision_settings_are_checked():
    with pytest.raises(SettingsError, match="--target-ci-pct is 0"):
        SweepConfig(target_ci_pct=0)
    with pytest.raises(SettingsError, match="--max-launches \\(2\\) is below --launches \\(3\\)"):
        SweepConfig(target_ci_pct=2, launches=3, max_launches=2)


def test_the_measured_core_peak_goes_into_the_device_facts(tmp_path):
    runner = f"""
if [ "$1" = "--measure-peak" ]; then echo {shlex.quote(json.dumps(PEAK))}; exit 0; fi
echo {shlex.quote(json.dumps(runner_result_json()))}
"""
    rows, run_info, _ = run_sweep_with(tmp_path, runner)
    assert run_info["device"]["core_peaks"] == [PEAK]
    assert all(row["device"]["core_peaks"] == [PEAK] for row in rows)
    rows, run_info, _ = run_sweep_with(tmp_path / "skipped", runner, measure_core_peak=False)
    assert run_info["device"]["core_peaks"] == [] and rows[0]["device"]["core_peaks"] == []
