"""results.jsonl: append-only rows, truncated tails, resume keys; run.json round trip."""

import json
from datetime import UTC

import pytest

from formats.errors import ResultsError, UnsupportedSchema
from formats.results import ResultRow
from formats.run_folder import RunFolder, new_run_id, scan_rows


def make_row(program_id="full.xnnpack", launch_index=0, row_index=0, status="runner_crash"):
    """A row without a runner result (an ok row must carry one: formats.results.check_row)."""
    return ResultRow(run_id="r", row_index=row_index, program_id=program_id, launch_index=launch_index,
                     launch_kind="first" if launch_index == 0 else "warm", page_cache_dropped=False,
                     status=status, core=1, threads=1, device={}, manifest_entry={}, runner=None,
                     runner_exit_code=0, runner_stderr="", env_before={}, env_after={},
                     started_utc="2026-11-23T11:00:00Z", wall_s=1.0)


def test_rows_are_appended_and_readable_line_by_line(tmp_path):
    folder = RunFolder.new(tmp_path, "run1")
    folder.write_run_info({"run_id": "run1"})
    with folder.open_writer() as writer:
        writer.append(make_row(launch_index=0))
        writer.append(make_row(launch_index=1, row_index=1))
        # flushed row by row: readable while the writer is still open
        assert scan_rows(folder.results_path).count == 2
    lines = folder.results_path.read_text().splitlines()
    first = json.loads(lines[0])
    assert first["schema"] == "splitbench.result_row" and first["schema_version"] == 1
    assert list(first)[:2] == ["schema", "schema_version"]
    assert folder.existing_rows().keys == {("full.xnnpack", 0), ("full.xnnpack", 1)}
    assert folder.read_run_info()["schema"] == "splitbench.run"


@pytest.mark.parametrize("tail", ['{"schema": "splitbench.res', '{"half": 1}'])
def test_truncated_last_line_is_reported_and_cut(tmp_path, tail):
    folder = RunFolder.new(tmp_path, "run1")
    folder.write_run_info({})
    with folder.open_writer() as writer:
        writer.append(make_row())
    with open(folder.results_path, "a") as handle:
        handle.write(tail)  # a crash mid-write: no newline
    rows = folder.existing_rows()
    assert rows.count == 1 and rows.truncated_tail_bytes == len(tail)
    assert folder.repair_truncated_tail() == len(tail)
    assert folder.results_path.read_text().endswith("\n")
    assert folder.existing_rows().truncated_tail_bytes == 0
    with folder.open_writer() as writer:
        writer.append(make_row(launch_index=1, row_index=1))
    assert folder.existing_rows().count == 2


def test_corrupt_middle_line_repeated_key_and_unknown_version_are_errors(tmp_path):
    path = tmp_path / "results.jsonl"
    good = json.dumps(make_row().to_json())
    path.write_text("not json\n" + good + "\n")
    with pytest.raises(ResultsError, match=r"results.jsonl:1: not valid JSON"):
        scan_rows(path)
    path.write_text(good + "\n" + good + "\n")
    with pytest.raises(ResultsError, match="repeats full.xnnpack launch 0"):
        scan_rows(path)
    future = dict(make_row().to_json(), schema_version=9)
    path.write_text(json.dumps(future) + "\n")
    with pytest.raises(UnsupportedSchema, match=r"splitbench.result_row schema_version 9 is not supported \(supported: 1\)"):
        scan_rows(path)


def test_row_rejects_unknown_status():
    with pytest.raises(ResultsError, match="status"):
        make_row(status="fine")


def test_run_ids_and_folders(tmp_path):
    from datetime import datetime
    assert new_run_id("192.168.1.5:5555", datetime(2026, 11, 23, 11, 0, 0, tzinfo=UTC), "1a2b3c") == \
        "20261123T110000Z-192.168.1.5-5555-1a2b3c"
    folder = RunFolder.new(tmp_path, "run1")
    folder.write_run_info({})
    with pytest.raises(ResultsError, match="--resume run1"):
        RunFolder.new(tmp_path, "run1")
    with pytest.raises(ResultsError, match="no run nope"):
        RunFolder.open_existing(tmp_path, "nope")
