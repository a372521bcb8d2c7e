"""Loading results: schema checks, empty and truncated files, corrupt lines, duplicates, run.json."""

import json
import shutil
from pathlib import Path

import pytest

from analysis.errors import AnalysisError, EmptyResults, ResultsNotFound
from analysis.loading import load_results
from formats.errors import FormatError, ResultsError, UnsupportedSchema

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"


def copy_run(name: str, destination: Path) -> Path:
    target = destination / name
    shutil.copytree(DATA / name, target)
    return target


def read_rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]


def write_rows(folder: Path, rows: list[dict]) -> None:
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_paper_like_folder_loads_every_row_with_its_source():
    loaded = load_results([DATA / "paper_like"])
    assert len(loaded.rows) == 29
    assert loaded.warnings == []
    assert loaded.skipped_row_count == 0
    assert loaded.rows[0].source.line_number == 1
    assert loaded.rows[-1].source.line_number == 29
    assert [run.run_id for run in loaded.runs] == ["20261123T100000Z-handmade"]
    assert loaded.runs[0].run_info["settings"]["launches"] == 3


def test_results_file_path_is_accepted_like_its_folder():
    loaded = load_results([DATA / "paper_like" / "results.jsonl"])
    assert len(loaded.rows) == 29
    assert loaded.runs[0].run_info is not None


def test_mixed_schema_versions_name_file_line_found_and_supported_versions():
    with pytest.raises(UnsupportedSchema) as caught:
        load_results([DATA / "mixed_versions"])
    message = str(caught.value)
    assert "mixed_versions/results.jsonl:2" in message
    assert "schema_version 2" in message
    assert "supported: 1" in message
    assert "\n" not in message


def test_empty_file_is_a_clear_error():
    with pytest.raises(EmptyResults, match=r"empty/results.jsonl is empty; run the sweep"):
        load_results([DATA / "empty"])


def test_truncated_last_line_is_skipped_counted_and_warned():
    loaded = load_results([DATA / "truncated"])
    assert len(loaded.rows) == 2
    assert loaded.skipped_row_count == 1
    assert len(loaded.warnings) == 1
    assert "truncated/results.jsonl:3" in loaded.warnings[0].source
    assert "truncated last line skipped" in loaded.warnings[0].message


def test_file_holding_only_a_truncated_row_is_empty(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.jsonl").write_text('{"schema": "splitbench.result_row", "schema_')
    with pytest.raises(EmptyResults, match="only a truncated row"):
        load_results([folder])


def test_broken_middle_line_is_an_error_not_a_skip(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    lines = (folder / "results.jsonl").read_text().splitlines(keepends=True)
    lines[4] = lines[4][:40] + "\n"
    (folder / "results.jsonl").write_text("".join(lines))
    with pytest.raises(ResultsError, match=r"results.jsonl:5: not valid JSON"):
        load_results([folder])


def test_unknown_run_json_version_names_run_json(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    run_info = json.loads((folder / "run.json").read_text())
    run_info["schema_version"] = 7
    (folder / "run.json").write_text(json.dumps(run_info))
    with pytest.raises(UnsupportedSchema, match=r"run.json: splitbench.run schema_version 7 is not supported \(supported: 1, 2\)"):
        load_results([folder])


def test_unknown_embedded_runner_version_is_refused(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    rows = read_rows(folder)
    rows[3]["runner"]["schema_version"] = 9
    write_rows(folder, rows)
    with pytest.raises(UnsupportedSchema, match=r"results.jsonl:4 \(embedded runner result\).*schema_version 9"):
        load_results([folder])


def test_wrong_schema_name_is_refused(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    rows = read_rows(folder)
    rows[0]["schema"] = "splitbench.manifest"
    write_rows(folder, rows)
    with pytest.raises(UnsupportedSchema, match="schema is 'splitbench.manifest', expected 'splitbench.result_row'"):
        load_results([folder])


def test_row_missing_a_field_is_refused(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    rows = read_rows(folder)
    del rows[2]["launch_kind"]
    write_rows(folder, rows)
    with pytest.raises(ResultsError, match="results.jsonl:3: row lacks launch_kind"):
        load_results([folder])


def test_ok_row_without_runner_timing_is_refused(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    rows = read_rows(folder)
    rows[0]["runner"] = None
    write_rows(folder, rows)
    with pytest.raises(ResultsError, match="status ok but no runner timing"):
        load_results([folder])


def test_duplicate_launch_is_skipped_with_a_warning(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    rows = read_rows(folder)
    write_rows(folder, rows + [rows[0]])
    loaded = load_results([folder])
    assert len(loaded.rows) == 29
    assert loaded.skipped_row_count == 1
    assert "duplicate of" in loaded.warnings[0].message and ":1" in loaded.warnings[0].message


def test_missing_run_json_is_a_warning(tmp_path):
    folder = copy_run("paper_like", tmp_path)
    (folder / "run.json").unlink()
    loaded = load_results([folder])
    assert loaded.runs[0].run_info is None
    assert loaded.runs[0].run_id == "20261123T100000Z-handmade"
    assert any("no run.json" in warning.message for warning in loaded.warnings)


def test_folder_of_run_folders_loads_each_run(tmp_path):
    copy_run("paper_like", tmp_path)
    copy_run("truncated", tmp_path)
    loaded = load_results([tmp_path])
    assert len(loaded.runs) == 2
    # the truncated run repeats launches of the same run id, so its two rows are duplicates of paper_like's
    assert len(loaded.rows) == 29
    assert loaded.skipped_row_count == 3


def test_missing_path_and_folder_without_results_are_clear_errors(tmp_path):
    with pytest.raises(ResultsNotFound, match="does not exist"):
        load_results([tmp_path / "nope"])
    with pytest.raises(ResultsNotFound, match="holds no results.jsonl"):
        load_results([tmp_path])
    with pytest.raises(ResultsNotFound):
        load_results([])


def test_every_loading_error_derives_from_one_of_two_roots():
    """Folder-level problems are the analysis's own; a file that is not what it claims is a format error."""
    for error in (ResultsNotFound, EmptyResults):
        assert issubclass(error, AnalysisError)
    for error in (UnsupportedSchema, ResultsError):
        assert issubclass(error, FormatError)
