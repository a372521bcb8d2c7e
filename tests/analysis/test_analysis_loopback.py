"""The analysis of a real results folder: the small export swept on the loopback device with the host runner."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.pipeline import analyse
from bench import run_device

FIGURE_NAMES = ("inference_time", "load_time", "memory")


@pytest.fixture(scope="module")
def loopback_results(small_export, host_runner_bundle, lite_runner_bundle, tmp_path_factory) -> Path:
    """results/<run_id> of a short sweep (2 launches x 3 inferences, xnnpack and lite) on the loopback device."""
    manifest_path, _ = small_export
    results_dir = tmp_path_factory.mktemp("loopback_results")
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest_path), "--out", str(results_dir),
                            "--backends", "xnnpack,lite", "--launches", "2", "--iterations", "3", "--warmup", "1",
                            "--cooldown-s", "0", "--cooldown-max-s", "0"])
    assert code == 0
    (run_folder,) = [path for path in results_dir.iterdir() if path.is_dir()]
    return run_folder


@pytest.fixture(scope="module")
def loopback_analysis(loopback_results, tmp_path_factory):
    outputs = analyse([loopback_results], tmp_path_factory.mktemp("loopback_report"))
    return outputs, outputs.report_path.read_text()


def test_figures_and_tables_are_produced(loopback_analysis):
    outputs, _ = loopback_analysis
    for name in FIGURE_NAMES:
        assert (outputs.out_dir / "figures" / f"{name}.png").stat().st_size > 10_000
        assert (outputs.out_dir / "figures" / f"{name}.svg").stat().st_size > 10_000
    samples = pd.read_csv(outputs.table_paths["samples"])
    launches = pd.read_csv(outputs.table_paths["launches"])
    ok = launches[launches["status"] == "ok"]
    assert len(samples) == 3 * len(ok)
    assert (ok["load_ms"] > 0).all() and (ok["vm_hwm_kb"] > 0).all()


def test_report_names_every_swept_configuration(loopback_analysis, small_export):
    _, report = loopback_analysis
    _, manifest = small_export
    swept = {program.configuration for program in manifest.programs if program.role in ("full", "client")}
    assert {"full", "conv5_1_simple", "conv5_3_reduced", "conv5_1_reduced_noisy"} <= swept
    for configuration in swept:
        assert f"| {configuration} |" in report


def test_report_compares_with_the_paper_and_says_it_ran_on_this_host(loopback_analysis):
    outputs, report = loopback_analysis
    reproduction = pd.read_csv(outputs.table_paths["reproduction"])
    headline = reproduction[reproduction["headline"] & (reproduction["backend"] == "xnnpack")]
    assert set(headline["quantity"]) == {"memory", "load time"}
    assert (headline["split_count"] == 6).all()
    assert "217.66" in report and "534.49" in report
    assert "(loopback device: this host)" in report and "not on a phone" in report
    assert "reduced-size model" in report


def test_lite_programs_are_measured_or_listed_as_failed(loopback_analysis):
    outputs, report = loopback_analysis
    summary = pd.read_csv(outputs.table_paths["summary"])
    failures = pd.read_csv(outputs.table_paths["failures"])
    lite_failed = failures["program_id"].str.endswith(".lite")
    assert ("lite" in set(summary["backend"])) or lite_failed.any()
    if lite_failed.any():
        assert "## Failed launches" in report and "full.lite" in report
