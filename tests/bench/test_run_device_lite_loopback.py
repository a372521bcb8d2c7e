"""The .ptl programs end to end on the loopback device: with the real TorchScript Lite host runner
they are measured; without a Lite build they give "unsupported" rows and a partial-sweep exit code."""

from __future__ import annotations

import json

from runner_builds import HOST_BUNDLE
from test_run_device_loopback import QUICK, only_run_folder, read_rows

from bench import run_device


def test_a_lite_sweep_measures_every_ptl_program_with_the_lite_runner(small_export, host_runner_bundle,
                                                                      lite_runner_bundle, tmp_path, capsys):
    manifest_path, manifest = small_export
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(tmp_path),
                            "--backends", "lite", "--launches", "1", "--no-drop-caches", *QUICK])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = read_rows(tmp_path)
    ptl = [p for p in manifest.programs if p.role in ("full", "client") and p.format == "ptl"]
    assert len(ptl) == 8 and sorted(r["program_id"] for r in rows) == sorted(p.id for p in ptl)
    for row in rows:
        assert row["status"] == "ok", row["runner_stderr"]
        runner = row["runner"]
        assert "torchscript_lite" in runner["runner"]["runtimes"] and runner["model"]["format"] == "ptl"
        assert runner["options"]["input_shape"] == row["manifest_entry"]["input_shape"]
        assert runner["output"]["shape"] == row["manifest_entry"]["output_shape"]
        assert len(runner["timing"]["inference_ms"]) == 3 and runner["timing"]["method_load_ms"] is None
    session = json.loads((only_run_folder(tmp_path) / "run.json").read_text())["sessions"][0]
    assert session["lite_runner"]["folder"] == str(lite_runner_bundle)
    assert session["deploy"]["bytes_pushed"] > 400_000_000  # the Lite bundle (libtorch_cpu) went over


def test_without_a_lite_build_ptl_programs_are_unsupported_rows_and_the_sweep_is_partial(
        small_export, host_runner_bundle, tmp_path, capsys):
    manifest_path, _ = small_export
    build_root = tmp_path / "build"  # holds the plain build only
    build_root.mkdir()
    (build_root / HOST_BUNDLE.parent.name).symlink_to(HOST_BUNDLE.parent, target_is_directory=True)
    out = tmp_path / "out"
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(out),
                            "--runner-bundle", str(build_root / HOST_BUNDLE.parent.name / "bundle"),
                            "--configs", "full,conv5_1_simple", "--backends", "xnnpack,lite", "--launches", "2",
                            "--no-drop-caches", *QUICK])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == run_device.EXIT_PARTIAL
    assert err[-1].startswith("warning: 4 launch(es) of .ptl programs not run: no TorchScript Lite runner for linux-")
    assert "build it with: bash android_app/build_host.sh --with-lite" in err[-1]
    rows = read_rows(out)
    statuses = {(r["program_id"], r["launch_index"]): r["status"] for r in rows}
    assert statuses == {(f"{c}.{b}", i): "ok" if b == "xnnpack" else "unsupported"
                        for c in ("full", "conv5_1_simple") for b in ("xnnpack", "lite") for i in range(2)}
    for row in rows:
        if row["status"] == "ok":
            assert row["runner"]["runner"]["runtimes"] == ["executorch"]
            assert row["runner"]["output"]["shape"] == row["manifest_entry"]["output_shape"]
        else:
            assert row["runner"] is None and "--with-lite" in row["runner_stderr"]
