"""Reads results folders (formats.run_folder: results.jsonl + run.json) into checked rows, keeping track of
what was skipped: an unfinished last line, a missing run.json, a launch listed twice."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import EmptyResults, ResultsNotFound
from formats.results import RESULTS_FILE, read_rows
from formats.run_info import RUN_FILE, read_run_info

RERUN_ADVICE = "restore it or re-run the sweep"


@dataclass(frozen=True)
class RowSource:
    path: Path
    line_number: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line_number}"


@dataclass(frozen=True)
class LoadedRow:
    """One checked results row and where it came from."""
    data: dict[str, Any]
    source: RowSource


@dataclass(frozen=True)
class LoadWarning:
    """Something the report must mention: a skipped line, a missing run.json, a duplicate row."""
    source: str
    message: str


@dataclass(frozen=True)
class LoadedRun:
    """One sweep: its results file and its run.json (None when the folder has none)."""
    run_id: str
    results_path: Path
    run_info: dict[str, Any] | None


@dataclass
class LoadedResults:
    rows: list[LoadedRow] = field(default_factory=list)
    runs: list[LoadedRun] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    skipped_row_count: int = 0


def find_results_files(path: Path) -> list[Path]:
    """A results.jsonl file, a run folder holding one, or a folder of run folders."""
    if path.is_file():
        return [path]
    if not path.exists():
        raise ResultsNotFound(f"{path} does not exist; pass a results/<run_id> folder or its results.jsonl")
    direct = path / RESULTS_FILE
    if direct.is_file():
        return [direct]
    nested = sorted(path.glob(f"*/{RESULTS_FILE}"))
    if not nested:
        raise ResultsNotFound(f"{path} holds no {RESULTS_FILE}; pass a results/<run_id> folder written by bench/run_device.py")
    return nested


def run_info_beside(results_path: Path) -> dict[str, Any] | None:
    run_path = results_path.parent / RUN_FILE
    return read_run_info(run_path, advice=RERUN_ADVICE) if run_path.is_file() else None


def read_results_file(results_path: Path) -> tuple[list[LoadedRow], list[LoadWarning]]:
    """Every row; an unfinished last line (a crash mid-write) is skipped with a warning unless it is a whole row."""
    read = read_rows(results_path)
    rows = [LoadedRow(line.data, RowSource(results_path, line.line_number)) for line in read.rows]
    warnings: list[LoadWarning] = []
    tail = read.unfinished_tail
    if tail is not None:
        source = RowSource(results_path, tail.line_number)
        if tail.data is not None:
            rows.append(LoadedRow(tail.data, source))
        else:
            warnings.append(LoadWarning(str(source), f"truncated last line skipped ({tail.size_bytes} bytes, {tail.reason})"))
    if not rows and tail is None:
        raise EmptyResults(f"{results_path} is empty; run the sweep (bench/run_device.py) first or pass another folder")
    if not rows:
        raise EmptyResults(f"{results_path} holds only a truncated row; re-run the sweep with --resume to measure it")
    return rows, warnings


def drop_duplicate_launches(rows: list[LoadedRow]) -> tuple[list[LoadedRow], list[LoadWarning]]:
    """Keep the first row of each (run_id, program_id, launch_index); later copies are reported and skipped."""
    seen: dict[tuple, RowSource] = {}
    kept: list[LoadedRow] = []
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
            run_info = run_info_beside(results_path)
            if run_info is None:
                loaded.warnings.append(LoadWarning(str(results_path.parent), f"no {RUN_FILE}; sweep settings are taken from the rows only"))
            run_id = run_info.get("run_id") if run_info and run_info.get("run_id") else rows[0].data["run_id"]
            loaded.runs.append(LoadedRun(str(run_id), results_path, run_info))
            loaded.rows.extend(rows)
    loaded.rows, duplicate_warnings = drop_duplicate_launches(loaded.rows)
    loaded.warnings.extend(duplicate_warnings)
    loaded.skipped_row_count += len(duplicate_warnings)
    return loaded
