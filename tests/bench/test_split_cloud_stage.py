"""The cloud stage end to end on the loopback device: every split's device output run through its remainder on
the host agrees with the full model, tampered features fail the check, the link and the per-layer profile are
recorded; and its bad inputs (missing remainder, not a run folder) are one clear error each."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from split_study_helpers import cloud_stage_of, export_small_study, sweep_small_study

from bench.cloud.errors import RemainderMissing
from bench.cloud.plan import plan_cloud_work
from bench.sweep.programs import LoadedManifest
from formats.cloud_results import CLOUD_FILE, read_cloud_rows
from formats.layer_profile import LAYER_PROFILE_FILE, read_layer_profile
from formats.link_measurement import LINK_FILE, read_link_measurement
from formats.manifest import MANIFEST_SCHEMA


@pytest.fixture(scope="module")
def study(tmp_path_factory, host_runner_bundle):
    root = tmp_path_factory.mktemp("split_study")
    manifest = export_small_study(root / "export")
    run_folder = sweep_small_study(manifest, root / "results")
    kept = root / "pulled"
    code = cloud_stage_of(run_folder, kept)
    return {"manifest": manifest, "run": run_folder, "kept": kept, "code": code}


def test_every_split_agrees_with_the_full_model_across_device_and_host(study):
    assert study["code"] == 0
    rows = {row.configuration: row for row in read_cloud_rows(study["run"] / CLOUD_FILE)}
    assert list(rows) == ["conv1_2_simple", "pool3_simple", "conv5_1_simple", "conv5_1_reduced", "cloud_only"]
    manifest = json.loads(study["manifest"].read_text())
    entries = {entry["id"]: entry for entry in manifest["programs"]}
    for name in ("conv1_2_simple", "pool3_simple", "conv5_1_simple"):
        row = rows[name]
        assert row.status == "ok" and row.check["exact_expected"] is True
        assert row.device["input_matches"] is True  # the device ran on the very image the host fed the reference
        assert row.check["top1_agree"] and row.check["logits_rel_error"] <= 1e-3
        count = int(np.prod(entries[row.client_program_id]["output_shape"]))
        assert row.transfer.float32_bytes == 4 * count == entries[row.client_program_id]["output_size_bytes"]
        assert row.transfer.float16_bytes == 2 * count and row.transfer.int8_bytes == count + 4
        assert row.transfer.int8_scale == pytest.approx(row.transfer.max_abs / 127)
        assert row.cloud.threads == os.cpu_count() and row.cloud.repeats == 2 and len(row.cloud.times_ms) == 2
    reduced = rows["conv5_1_reduced"]
    assert reduced.status == "ok" and reduced.check["exact_expected"] is False and reduced.reduction_k == 8
    assert reduced.transfer.float32_bytes == 4 * 8
    baseline = rows["cloud_only"]
    assert baseline.device is None and baseline.transfer.payload == "image"
    assert baseline.transfer.float32_bytes == 4 * 3 * 32 * 32 and baseline.transfer.uint8_bytes == 3 * 32 * 32
    assert 0 < baseline.transfer.jpeg_bytes < baseline.transfer.uint8_bytes + 1000
    assert baseline.transfer.jpeg_quality == 90


def test_tampered_features_fail_the_end_to_end_check(study):
    from bench.cloud.device_files import OUTPUT_FILE, FileLaunchOutcome
    from bench.cloud.end_to_end import CheckSettings, check_split
    from bench.cloud.host_runtime import HostProgram
    from bench.cloud.input_image import load_input_image
    from bench.cloud.stage import open_cloud_run

    opened = open_cloud_run(study["run"])
    work = next(w for w in opened.plan.splits if w.configuration == "pool3_simple")
    files = {path.name: path for path in (study["kept"] / work.client.program_id).iterdir()}
    image = load_input_image(32)
    full = HostProgram.load(opened.plan.full.local_path, opened.plan.full.data_local_path)
    settings = CheckSettings(repeats=1)
    untouched = check_split(opened.run_id, work, FileLaunchOutcome("ok", {}, 0, "", 0.1, files), image, full, settings)
    assert untouched.status == "ok"

    features = bytearray(files[OUTPUT_FILE].read_bytes())
    for index in range(0, len(features), 7):  # flip bytes between the device and the cloud
        features[index] ^= 0x5A
    files[OUTPUT_FILE].write_bytes(bytes(features))
    tampered = check_split(opened.run_id, work, FileLaunchOutcome("ok", {}, 0, "", 0.1, files), image, full, settings)
    assert tampered.status == "mismatch"
    assert "disagree with the full model" in tampered.message
    assert tampered.device["output_sha256"] != untouched.device["output_sha256"]


def test_link_and_layer_profile_are_recorded(study):
    link = read_link_measurement(study["run"] / LINK_FILE)
    assert link.push_payload_bytes == 256 * 1024 and len(link.push_times_s) == 3
    assert link.push_throughput_bytes_per_s > 0 and link.round_trip_median_ms > 0
    profile = read_layer_profile(study["run"] / LAYER_PROFILE_FILE)
    assert profile.program_id == "full.xnnpack" and profile.iterations == 3
    layers = [entry.layer for entry in profile.layers]
    assert layers[:3] == ["conv1_1", "conv1_2", "pool1"] and layers[-3:] == ["fc6", "fc7", "fc8"]
    assert len([name for name in layers if name.startswith("conv")]) == 13
    assert all(event.samples == 3 for event in profile.events)
    assert profile.method_execute_median_ms > 0


def fake_manifest(tmp_path: Path, ids: list[tuple[str, str]]) -> LoadedManifest:
    programs = []
    for program_id, role in ids:
        configuration = program_id.split(".")[0]
        (tmp_path / f"{program_id}.pte").write_bytes(b"x")
        programs.append({"id": program_id, "configuration": configuration, "role": role,
                         "split_point": None if role == "full" else configuration.rsplit("_", 1)[0],
                         "reduction": None, "noise": None, "format": "pte", "backend": "xnnpack",
                         "file": f"{program_id}.pte", "sha256": "0" * 64, "size_bytes": 1,
                         "input_shape": [1, 3, 32, 32], "output_shape": [1, 2], "dtype": "float32",
                         "input_dtype": "float32", "output_dtype": "float32", "output_size_bytes": 8,
                         "param_count": 10, "flops": 100, "ptl_bytecode_version": None, "export_time_s": 0.1,
                         "cache_key": "k", "arch": "vgg16", "quantization": None, "accuracy": None})
    data = {"schema": MANIFEST_SCHEMA, "schema_version": 2, "created_utc": "2026-01-01T00:00:00Z", "tools": {},
            "model": {"arch": "vgg16", "num_classes": 2, "input_size": 32, "width_divisor": 16, "weights": "seeded:0"},
            "programs": programs}
    return LoadedManifest(path=tmp_path / "manifest.json", sha256="0", data=data)


def test_a_client_without_its_remainder_is_one_clear_error(tmp_path):
    manifest = fake_manifest(tmp_path, [("full.xnnpack", "full"), ("pool3_simple.xnnpack", "client"),
                                        ("conv1_2_simple.xnnpack", "client"),
                                        ("conv1_2_simple.cloud.xnnpack", "cloud")])
    with pytest.raises(RemainderMissing, match=r"pool3_simple\.cloud\.xnnpack \(for pool3_simple\.xnnpack\).*"
                                               r"--cloud-backends xnnpack"):
        plan_cloud_work(manifest, ["full.xnnpack", "pool3_simple.xnnpack", "conv1_2_simple.xnnpack"])
    plan = plan_cloud_work(manifest, ["full.xnnpack", "conv1_2_simple.xnnpack"])
    assert [work.remainder.program_id for work in plan.splits] == ["conv1_2_simple.cloud.xnnpack"]


def test_a_manifest_without_the_full_program_is_one_clear_error(tmp_path):
    manifest = fake_manifest(tmp_path, [("pool3_simple.xnnpack", "client"), ("pool3_simple.cloud.xnnpack", "cloud")])
    with pytest.raises(RemainderMissing, match="no full.xnnpack program"):
        plan_cloud_work(manifest, ["pool3_simple.xnnpack"])


def test_the_command_line_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    from bench.cloud.__main__ import main

    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a run folder" in err[0] and "results/<run_id>" in err[0]


def test_the_report_says_where_to_cut(study, tmp_path):
    from analysis.__main__ import main as analysis

    assert analysis([str(study["run"]), "--out", str(tmp_path / "report"), "--network", "5G:50:20"]) == 0
    report = (tmp_path / "report" / "report.md").read_text()
    section = report[report.index("## Where to cut"):]
    assert "### Best split per profile" in section and "| 5G |" in section and "| measured adb link |" in section
    assert "conv5_1_simple †" in section and "cloud_only_jpeg" in section
    assert "3 of 3 simple split(s) reproduce the full model end to end" in section
    assert "### Neurosurgeon-style prediction from the per-layer profile" in section
    for name in ("split_latency", "split_bytes", "split_memory"):
        assert (tmp_path / "report" / "figures" / f"{name}.png").stat().st_size > 0
    decision = (tmp_path / "report" / "tables" / "split_decision.csv").read_text().splitlines()
    assert len(decision) == 1 + 5 * 5  # header + 5 profiles x 5 objectives
