"""The cross-device section, from a real group: the small export swept on the host loopback device and the arm64
loopback device in one command (--serial loopback,loopback-arm64), analysed from the group folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from android_bundle_builds import ensure_android_bundle

from analysis.pipeline import analyse
from bench import run_device
from formats.run_folder import GROUP_FILE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def group_folder(small_export, host_runner_bundle, tmp_path_factory) -> Path:
    ensure_android_bundle("arm64-v8a")
    manifest_path, _ = small_export
    results_dir = tmp_path_factory.mktemp("group_results")
    code = run_device.main(["--serial", "loopback,loopback-arm64", "--manifest", str(manifest_path),
                            "--out", str(results_dir), "--configs", "full,conv5_1_simple,conv5_3_reduced",
                            "--backends", "xnnpack", "--launches", "2", "--iterations", "3", "--warmup", "1",
                            "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches"])
    assert code == 0
    (group,) = [path.parent for path in results_dir.glob(f"*/{GROUP_FILE}")]
    return group


def test_a_group_gets_the_devices_compared_with_a_figure_per_metric(group_folder, tmp_path):
    outputs = analyse([group_folder], tmp_path / "report")
    report = outputs.report_path.read_text()
    assert "## Devices compared" in report
    devices = pd.read_csv(outputs.table_paths["cross_device"])
    assert sorted(devices["abi"]) == ["arm64-v8a", "x86_64"]
    assert set(devices["transport"]) == {"direct"} and set(devices["backend"]) == {"xnnpack"}
    assert devices["full_median_ms"].gt(0).all() and devices["core_peak_gflop_per_s"].gt(0).all()
    assert devices["memory_increase_percent"].notna().all() and devices["load_increase_percent"].notna().all()
    metrics = pd.read_csv(outputs.table_paths["cross_device_metrics"])
    assert set(metrics["metric"]) == {"inference_ms", "warm_load_ms", "peak_memory_mb"}
    assert (metrics["ci_low"] <= metrics["median"]).all() and (metrics["median"] <= metrics["ci_high"]).all()
    for name in ("inference_ms", "warm_load_ms", "peak_memory_mb"):
        png = outputs.out_dir / "figures" / f"cross_device_{name}.png"
        assert png.stat().st_size > 10_000 and f"figures/cross_device_{name}.png" in report


def test_one_device_of_the_group_alone_keeps_the_single_device_report(group_folder, tmp_path):
    (one_run, _) = sorted(path.parent for path in group_folder.glob("*/results.jsonl"))
    outputs = analyse([one_run], tmp_path / "report")
    assert "## Devices compared" not in outputs.report_path.read_text()
    assert "cross_device" not in outputs.table_paths
