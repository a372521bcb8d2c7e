"""The phone path end to end on the arm64 loopback device: the sweep deploys the glibc-bundled arm64-v8a runner
(no NDK), starts it through its own loader on the pinned core, and every row is ok; its outputs agree with the host
runner's for the same program and input. Timings under qemu mean nothing: only that it ran, and what, is checked."""

from __future__ import annotations

import json
import math

import pytest
from android_bundle_builds import ensure_android_bundle
from test_run_device_loopback import QUICK, read_rows

from bench import run_device

pytestmark = pytest.mark.slow
RELATIVE_TOLERANCE = 1e-4  # fp32: XNNPACK's aarch64 and x86-64 kernels sum in different orders


def outputs_by_program(rows: list[dict]) -> dict[str, dict]:
    return {row["program_id"]: row["runner"]["output"] for row in rows}


def test_sweep_on_the_arm64_loopback_device_runs_the_aarch64_bundle(small_export, host_runner_bundle, tmp_path):
    ensure_android_bundle("arm64-v8a")
    manifest_path, _ = small_export
    configs = "full,conv5_1_simple,conv5_3_reduced"
    common = ["--manifest", str(manifest_path), "--configs", configs, "--backends", "xnnpack", "--launches", "2",
              "--no-drop-caches", *QUICK]
    assert run_device.main(["--serial", "loopback-arm64", "--out", str(tmp_path / "arm64"), *common]) == 0
    assert run_device.main(["--serial", "loopback", "--out", str(tmp_path / "host"), *common]) == 0
    arm64_rows, host_rows = read_rows(tmp_path / "arm64"), read_rows(tmp_path / "host")

    assert len(arm64_rows) == 3 * 2 and {row["status"] for row in arm64_rows} == {"ok"}
    for row in arm64_rows:
        assert row["device"]["platform"] == "android" and row["device"]["abi"] == "arm64-v8a"
        assert row["device"]["cpu_emulation"] == "qemu-aarch64" and row["device"]["loopback"] is True
        assert row["runner"]["runner"]["abi"] == "arm64-v8a"  # the aarch64 build ran, not the host's
        assert row["runner"]["affinity"]["cpus_observed"] == [row["core"]]
        assert row["runner"]["model"]["path"].endswith(f"/splitbench/models/{row['program_id']}.pte")
    run_info = json.loads(next((tmp_path / "arm64").iterdir()).joinpath("run.json").read_text())
    assert run_info["harness"]["runner_bundle"]["platform"] == "android"

    host = outputs_by_program(host_rows)
    for program_id, output in outputs_by_program(arm64_rows).items():
        expected = host[program_id]
        assert output["shape"] == expected["shape"]
        scale = max(1e-6, max(abs(value) for value in expected["first_values"]))
        for got, want in zip(output["first_values"], expected["first_values"], strict=True):
            assert math.isclose(got, want, rel_tol=RELATIVE_TOLERANCE, abs_tol=RELATIVE_TOLERANCE * scale), program_id
        assert math.isclose(output["sum"], expected["sum"], rel_tol=RELATIVE_TOLERANCE,
                            abs_tol=RELATIVE_TOLERANCE * scale * math.prod(expected["shape"]))
