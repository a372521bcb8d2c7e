"""The CLI end to end on hand-made folders: tables, figures, report.md, warnings, failures, one-line errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.pipeline import analyse
from formats.paper import PAPER_CONFIGURATIONS

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"
REPO = Path(__file__).resolve().parents[2]
FIGURE_NAMES = ("inference_time", "load_time", "memory")


@pytest.fixture(scope="module")
def paper_like_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    outputs = analyse([DATA / "paper_like"], out)
    return outputs, outputs.report_path.read_text()


def test_tables_figures_and_report_are_written(paper_like_report):
    outputs, _ = paper_like_report
    assert outputs.report_path.name == "report.md"
    assert set(outputs.table_paths) == {"samples", "launches", "failures", "summary", "reproduction", "inference_comparison",
                                       "int8_vs_fp32"}
    assert len(pd.read_csv(outputs.table_paths["samples"])) == 108
    assert len(pd.read_csv(outputs.table_paths["failures"])) == 2
    for name in FIGURE_NAMES:
        png = outputs.out_dir / "figures" / f"{name}.png"
        svg = outputs.out_dir / "figures" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000
        assert "<svg" in svg.read_text()[:500]


def test_report_embeds_figures_and_names_every_configuration(paper_like_report):
    _, report = paper_like_report
    for name in FIGURE_NAMES:
        assert f"](figures/{name}.png)" in report
    for configuration in PAPER_CONFIGURATIONS:
        assert f"| {configuration} |" in report


def test_report_sets_our_ratios_beside_the_papers(paper_like_report):
    _, report = paper_like_report
    assert "217.66" in report and "534.49" in report
    assert "not available as text" in report
    assert ("- Test Phone 6P, core 4, 1 thread(s), xnnpack: the full model needs 172.73% more memory (peak (VmHWM); "
            "paper 217.66%) and 466.67% more load time (warm load; paper 534.49%)." in report)
    assert "| Test Phone 6P | 4 | xnnpack | memory | peak (VmHWM) | 300,000 | 110,000 | 6 | kB | 172.73 | 217.66 |" in report
    assert "| Test Phone 6P | 4 | xnnpack | load time | warm load | 510.00 | 90.00 | 6 | ms | 466.67 | 534.49 |" in report


def test_report_explains_the_ratio_and_leaves_every_reading_to_the_csv(paper_like_report):
    """4000 kB before loading against a split's mean peak of 110,000 kB: 4 %, so memory follows the programs."""
    outputs, report = paper_like_report
    assert ("- xnnpack (Test Phone 6P): the runner holds 4 MB before loading anything; the full program file is 0 MB "
            "against 0 MB for the average split (+0%), and the peak memory is 293 MB against 107 MB (+173%): that fixed "
            "runtime is only 4% of a split's peak, so memory follows the weights." in report)
    assert "#### " not in report.split("## Figures")[0]  # no per-platform every-reading tables before the figures
    assert "[tables/reproduction.csv](tables/reproduction.csv)" in report
    every_reading = set(pd.read_csv(outputs.table_paths["reproduction"])["split_reference"])
    assert {"smallest split configuration", "largest split configuration", "conv5_1_simple"} <= every_reading


def test_report_describes_the_setup(paper_like_report):
    _, report = paper_like_report
    assert "| device | Testmaker Test Phone 6P (Android device) |" in report
    assert "| ABI / platform / SDK | arm64-v8a / android / 25 |" in report
    assert "| core (max frequency) | 4 (1.96 GHz max) |" in report
    assert "| hottest thermal zone around launches | 35.00 - 38.50 C |" in report
    assert "| timed inferences per launch | 4 |" in report
    assert "| launches per program | 3 |" in report
    assert "| cool-down between programs | 5.00 s (up to 60.00 s while hot) |" in report
    assert "| cold loads (page cache dropped) | no (no root) |" in report
    assert "| harness versions | splitbench 0.1.0, python 3.11.7, host Linux-x86_64, runner_version 0.1.0, runner_executorch 1.5.1 |" in report


def test_report_lists_failed_launches_apart(paper_like_report):
    _, report = paper_like_report
    section = report.split("## Failed launches")[1].split("## What differs")[0]
    assert "2 launch(es) did not succeed" in section
    assert "| full.xnnpack | timeout | n/a | 3 | no answer within 600 s |" in section
    assert ("| conv5_3_reduced.portable | runner_error | out_of_memory | 0 | could not allocate 512 MB for the method | "
            in section)


def test_report_has_a_caveats_section(paper_like_report):
    _, report = paper_like_report
    assert "## Measurement caveats\n\nNone found" in report


def test_what_differs_section_is_derived_from_the_data(paper_like_report):
    _, report = paper_like_report
    section = report.split("## What differs from the paper's setup")[1]
    assert "ExecuTorch with the XNNPACK delegate" in section and "TorchScript Lite" in section
    assert "Caffe Mobile" in section
    assert "Testmaker Test Phone 6P (android, arm64-v8a, SDK 25)" in section
    assert "reduced-size model" in section  # the hand-made full model has 1,000 parameters
    assert "4 timed inferences per launch" in section


@pytest.mark.slow
def test_truncated_line_warning_reaches_the_report(tmp_path):
    outputs = analyse([DATA / "truncated"], tmp_path)
    report = outputs.report_path.read_text()
    assert "## Warnings" in report and "1 row(s) skipped" in report and "truncated last line skipped" in report
    assert len(outputs.warnings) == 1


def loopback_copy(tmp_path: Path) -> Path:
    """The hand-made run as if measured on the loopback device (this host)."""
    folder = tmp_path / "loopback_run"
    shutil.copytree(DATA / "paper_like", folder)
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    for row in rows:
        row["run_id"] = "20261123T110000Z-loopback"
        row["device"].update(model="splitbench loopback", manufacturer="AuthenticAMD", platform="linux", abi="x86_64",
                             android_sdk=0)
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (folder / "run.json").unlink()
    return folder


@pytest.mark.slow
def test_loopback_device_is_reported_as_the_host(tmp_path):
    outputs = analyse([loopback_copy(tmp_path)], tmp_path / "out")
    report = outputs.report_path.read_text()
    assert "| device | AuthenticAMD splitbench loopback (loopback device: this host) |" in report
    assert "not on a phone" in report and "this x86_64 host" in report
    assert "no run.json" in report


@pytest.mark.slow
def test_two_devices_get_separate_panels_and_rows(tmp_path):
    outputs = analyse([DATA / "paper_like", loopback_copy(tmp_path)], tmp_path / "out")
    summary = pd.read_csv(outputs.table_paths["summary"])
    assert set(summary["device"]) == {"Test Phone 6P", "splitbench loopback"}
    reproduction = pd.read_csv(outputs.table_paths["reproduction"])
    assert reproduction["headline"].sum() == 8
    svg = (outputs.out_dir / "figures" / "inference_time.svg").read_text()
    assert "Test Phone 6P, core 4" in svg and "splitbench loopback, core 4" in svg


@pytest.mark.slow
def test_cli_prints_where_the_report_is(tmp_path, capsys):
    assert main([str(DATA / "paper_like"), "--out", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"report: {tmp_path / 'r' / 'report.md'}"
    assert "2 failed launch(es)" in captured.err


@pytest.mark.parametrize("folder, fragment", [
    ("empty", "is empty; run the sweep"),
    ("mixed_versions", "schema_version 2 is not supported (supported: 1)"),
    ("does_not_exist", "does not exist"),
])
def test_cli_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, folder, fragment):
    assert main([str(DATA / folder), "--out", str(tmp_path / "r")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("analysis: error: ") and fragment in lines[0]
    assert captured.out == ""


@pytest.mark.slow
def test_module_entry_point_exits_2_on_bad_input(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "analysis", str(DATA / "empty"), "--out", str(tmp_path)],
                               capture_output=True, text=True, cwd=REPO, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "empty" in completed.stderr


@pytest.mark.slow
def test_unmeasured_memory_stays_unknown_and_the_report_still_renders(tmp_path):
    folder = tmp_path / "no_memory"
    shutil.copytree(DATA / "paper_like", folder)
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    for row in rows:
        if row["runner"] and "memory" in row["runner"]:
            row["runner"]["memory"] = {name: None for name in row["runner"]["memory"]}
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    outputs = analyse([folder], tmp_path / "out")
    summary = pd.read_csv(outputs.table_paths["summary"])
    assert summary["peak_memory_median_kb"].isna().all()
    reproduction = pd.read_csv(outputs.table_paths["reproduction"])
    assert set(reproduction["quantity"]) == {"load time"}
    assert (outputs.out_dir / "figures" / "memory.png").exists()


@pytest.mark.slow
def test_pinning_seen_by_the_runner_is_reported(paper_like_report, tmp_path):
    _, report = paper_like_report
    assert "| pinning seen by the runner | 27 of 27 successful launches ran only on the requested core |" in report
    folder = tmp_path / "off_core"
    shutil.copytree(DATA / "paper_like", folder)
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    rows[0]["runner"]["affinity"]["cpus_observed"] = [4, 0]
    rows[1]["runner"]["affinity"]["cpus_observed"] = []
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    outputs = analyse([folder], tmp_path / "out")
    assert ("25 of 27 successful launches ran only on the requested core; 1 ran on another CPU too; 1 could not tell"
            in outputs.report_path.read_text())
    launches = pd.read_csv(outputs.table_paths["launches"])
    assert launches.loc[0, "pinned_to_core"] == False  # noqa: E712  (the CSV column holds True/False/empty)


def test_only_failed_launches_give_a_report_without_figures(tmp_path):
    folder = tmp_path / "all_failed"
    shutil.copytree(DATA / "paper_like", folder)
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    failed = [row for row in rows if row["status"] != "ok"]
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in failed))
    outputs = analyse([folder], tmp_path / "out")
    report = outputs.report_path.read_text()
    assert outputs.figures == []
    assert "No figures: the results hold no successful launch." in report
    assert "No ratio can be computed" in report
    assert "2 launch(es) did not succeed" in report


def test_unwritable_output_is_one_clear_error(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main([str(DATA / "paper_like"), "--out", str(blocker / "report")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "cannot write into" in lines[0] and "pass a writable --out" in lines[0]


def test_binary_results_file_is_one_clear_error(tmp_path, capsys):
    folder = tmp_path / "binary"
    folder.mkdir()
    (folder / "results.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    assert main([str(folder), "--out", str(tmp_path / "out")]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err
