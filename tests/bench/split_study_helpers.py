"""A small split study for the tests: export (three split points, the paper's conv5_1 also reduced), a short
sweep on the loopback device, and the cloud stage with its pulled files kept."""

from __future__ import annotations

from pathlib import Path

STUDY_SPLITS = "conv1_2,pool3,conv5_1"


def export_small_study(out_dir: Path) -> Path:
    from scripts.split_study_export import export_split_study, parse_splits, study_parts

    parts = study_parts(out_dir, parse_splits(STUDY_SPLITS), ("xnnpack",), width_divisor=16, input_size=32,
                        calibration_count=16, seed=0)
    export_split_study(parts)
    return out_dir / "manifest.json"


def sweep_small_study(manifest: Path, results: Path) -> Path:
    from bench.run_device import main as run_device

    code = run_device(["--serial", "loopback", "--manifest", str(manifest), "--out", str(results),
                       "--backends", "xnnpack", "--iterations", "3", "--launches", "1",
                       "--cooldown-s", "0", "--cooldown-max-s", "0"])
    assert code == 0
    (run_folder,) = [path for path in results.iterdir() if path.is_dir()]
    return run_folder


def cloud_stage_of(run_folder: Path, kept: Path) -> int:
    from bench.cloud.__main__ import main as cloud

    return cloud([str(run_folder), "--repeats", "2", "--profile-iterations", "3", "--link-payload-kb", "256",
                  "--keep-files", str(kept)])
