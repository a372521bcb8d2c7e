"""Content-addressed caching: unchanged programs are not rewritten, a change rewrites only what it touches."""
from dataclasses import replace

import pytest

from export.config import ExportConfig
from export.events import PROGRAM_EXPORTED, PROGRAM_REUSED, PROJECTION_FITTED
from export.pipeline import run_export

pytestmark = pytest.mark.slow  # exports programs or drives a real adb server


def run_and_record(config: ExportConfig) -> dict[str, list[str]]:
    events: dict[str, list[str]] = {}
    run_export(config, on_event=lambda event: events.setdefault(event.kind, []).append(event.name))
    return events


@pytest.fixture(scope="module")
def cached_export(tmp_path_factory):
    config = ExportConfig(out_dir=tmp_path_factory.mktemp("cache") / "out", width_divisor=16, input_size=32,
                          splits=("conv5_3",), include_full=False, backends=("portable", "lite"), cloud_backends=(),
                          calibration_count=12)
    first = run_and_record(config)
    return config, first


def mtimes(folder):
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir() if path.suffix in (".pte", ".ptl")}


def test_first_run_exports_everything(cached_export):
    _, first = cached_export
    assert sorted(first[PROGRAM_EXPORTED]) == ["conv5_3_reduced.lite", "conv5_3_reduced.portable",
                                               "conv5_3_simple.lite", "conv5_3_simple.portable"]
    assert len(first[PROJECTION_FITTED]) == 1


def test_unchanged_rerun_exports_nothing(cached_export):
    config, _ = cached_export
    before = mtimes(config.out_dir)
    second = run_and_record(config)
    assert PROGRAM_EXPORTED not in second and PROJECTION_FITTED not in second
    assert len(second[PROGRAM_REUSED]) == 4
    assert mtimes(config.out_dir) == before


def test_changing_k_reexports_only_the_reduced_programs(cached_export):
    config, _ = cached_export
    changed = run_and_record(replace(config, k_by_split={"conv5_3": 3}))
    assert sorted(changed[PROGRAM_EXPORTED]) == ["conv5_3_reduced.lite", "conv5_3_reduced.portable"]
    assert sorted(changed[PROGRAM_REUSED]) == ["conv5_3_simple.lite", "conv5_3_simple.portable"]
    assert len(changed[PROJECTION_FITTED]) == 1


def test_a_modified_file_is_rewritten(cached_export):
    config, _ = cached_export
    run_export(config)
    target = config.out_dir / "conv5_3_simple.lite.ptl"
    target.write_bytes(target.read_bytes() + b"\0")
    repaired = run_and_record(config)
    assert repaired[PROGRAM_EXPORTED] == ["conv5_3_simple.lite"]
    assert len(repaired[PROGRAM_REUSED]) == 3


def test_adding_noise_exports_only_the_noisy_programs(cached_export):
    config, _ = cached_export
    run_export(config)
    noisy = run_and_record(replace(config, noise_variance=0.25))
    assert sorted(noisy[PROGRAM_EXPORTED]) == ["conv5_3_reduced_noisy.lite", "conv5_3_reduced_noisy.portable"]
    assert len(noisy[PROGRAM_REUSED]) == 4
