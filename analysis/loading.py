"""Reads results.jsonl files and their run.json into validated rows, keeping track of what was skipped."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from analysis.errors import CorruptResults, EmptyResults, ResultsNotFound
from analysis.schemas import RESULT_ROW_SCHEMA, RUN_SCHEMA, RUNNER_RESULT_SCHEMA, check_schema

RESULTS_FILE_NAME = "results.jsonl"
RUN_FILE_NAME = "run.json"

REQUIRED_ROW_FIELDS: tuple[str, ...] = (
    "run_id", "program_id", "launch_index", "launch_kind", "status", "core", "threads", "device", "manifest_entry",
)


@dataclass(frozen=True)
class RowSource:
    path: Path
    line_number: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line_number}"


@dataclass(frozen=True)
class ResultRow:
    """One validated results row and where it came from."""
    data: dict[str, Any]
    source: RowSource


@dataclass(frozen=True)
class LoadWarning:
    """Something the report must mention: a skipped line, a missing run.json, a duplicate row."""
    source: str
    message: str


@dataclass(frozen=True)
class RunFolder:
    """One sweep: its results file and its run.json (None when the folder has none)."""
    run_id: str
    results_path: Path
    run_info: dict[str, Any] | None


@dataclass
class LoadedResults:
    rows: list[ResultRow] = field(default_factory=list)
    runs: list[RunFolder] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    skipped_row_count: int = 0


def find_results_files(path: Path) -> list[Path]:
    """A results.jsonl file, a run folder holding one, or a folder of run folders."""
    if path.is_file():
        return [path]
    if not path.exists():
        raise ResultsNotFound(f"{path} does not exist; pass a results/<run_id> folder or its results.jsonl")
    direct = path / RESULTS_FILE_NAME
    if direct.is_file():
        return [direct]
    nested = sorted(path.glob(f"*/{RESULTS_FILE_NAME}"))
    if not nested:
        raise ResultsNotFound(f"{path} holds no {RESULTS_FILE_NAME}; pass a results/<run_id> folder written by bench/run_device.py")
    return nested


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptResults(f"{path}: not UTF-8 text (byte {error.start}); pass a results file written by bench/") from error
    except OSError as error:
        raise ResultsNotFound(f"{path}: cannot be read ({error.strerror}); check the path and its permissions") from error


def read_run_info(results_path: Path) -> dict[str, Any] | None:
    run_path = results_path.parent / RUN_FILE_NAME
    if not run_path.is_file():
        return None
    try:
        run_info = json.loads(read_text(run_path))
    except json.JSONDecodeError as error:
        raise CorruptResults(f"{run_path}: not valid JSON ({error.msg} at line {error.lineno}); restore or re-run the sweep") from error
    check_schema(run_info, RUN_SCHEMA, str(run_path))
    return run_info


def validate_row(row: Any, source: RowSource) -> None:
    check_schema(row, RESULT_ROW_SCHEMA, str(source))
    missing = [name for name in REQUIRED_ROW_FIELDS if name not in row]
    if missing:
        raise CorruptResults(f"{source}: row lacks {', '.join(missing)}; the file was not written by bench/ or is damaged")
    runner = row.get("runner")
    if runner is not None:
        check_schema(runner, RUNNER_RESULT_SCHEMA, f"{source} (embedded runner result)")
    if row["status"] == "ok":
        if runner is None or not isinstance(runner.get("timing"), dict):
            raise CorruptResults(f"{source}: row has status ok but no runner timing; the row is damaged, re-run that program")


def read_results_file(results_path: Path) -> tuple[list[ResultRow], list[LoadWarning]]:
    """Parse every line; a broken last line is a truncated write (skipped with a warning), a broken middle line is an error."""
    text = read_text(results_path)
    numbered_lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered_lines:
        raise EmptyResults(f"{results_path} is empty; run the sweep (bench/run_device.py) first or pass another folder")
    rows: list[ResultRow] = []
    warnings: list[LoadWarning] = []
    last_number = numbered_lines[-1][0]
    for number, line in numbered_lines:
        source = RowSource(results_path, number)
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            if number == last_number:
                warnings.append(LoadWarning(str(source), f"truncated last line skipped ({len(line)} characters, {error.msg})"))
                continue
            raise CorruptResults(f"{source}: not valid JSON ({error.msg}); repair or remove that line") from error
        validate_row(row, source)
        rows.append(ResultRow(row, source))
    if not rows:
        raise EmptyResults(f"{results_path} holds only a truncated row; re-run the sweep with --resume to measure it")
    return rows, warnings


def drop_duplicate_launches(rows: list[ResultRow]) -> tuple[list[ResultRow], list[LoadWarning]]:
    """Keep the first row of each (run_id, program_id, launch_index); later copies are reported and skipped."""
    seen: dict[tuple, RowSource] = {}
    kept: list[ResultRow] = []
    warnings: list[LoadWarning] = []
    for row in rows:
        key = (row.data["run_id"], row.data["program_id"], row.data["launch_index"])
        if key in seen:
            warnings.append(LoadWarning(str(row.source), f"duplicate of {seen[key]} (same run, program and launch) skipped"))
            continue
        seen[key] = row.source
        kept.append(row)
    return kept, warnings


def load_results(paths: Sequence[Path | str]) -> LoadedResults:
    loaded = LoadedResults()
    if not paths:
        raise ResultsNotFound("no results given; pass one or more results/<run_id> folders")
    for path in paths:
        for results_path in find_results_files(Path(path)):
            rows, warnings = read_results_file(results_path)
            loaded.skipped_row_count += len(warnings)
            loaded.warnings.extend(warnings)
            run_info = read_run_info(results_path)
            if run_info is None:
                loaded.warnings.append(LoadWarning(str(results_path.parent), f"no {RUN_FILE_NAME}; sweep settings are taken from the rows only"))
            run_id = run_info.get("run_id") if run_info and run_info.get("run_id") else rows[0].data["run_id"]
            loaded.runs.append(RunFolder(str(run_id), results_path, run_info))
            loaded.rows.extend(rows)
    loaded.rows, duplicate_warnings = drop_duplicate_launches(loaded.rows)
    loaded.warnings.extend(duplicate_warnings)
    loaded.skipped_row_count += len(duplicate_warnings)
    return loaded
