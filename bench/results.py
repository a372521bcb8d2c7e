"""The run folder: results.jsonl (one row per launch, append-only) and run.json (the run's settings).

Rows are written and flushed one at a time, so a crash loses at most the launch that was
running. A truncated last line left by a crash is cut off when the run is resumed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.errors import ResultsError

RESULT_ROW_SCHEMA = "splitbench.result_row"
RESULT_ROW_SCHEMA_VERSIONS = (1,)
RUN_SCHEMA = "splitbench.run"
RUN_SCHEMA_VERSIONS = (1,)
RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"
ROW_STATUSES = ("ok", "runner_error", "runner_crash", "deploy_error", "timeout", "unsupported")
LAUNCH_KINDS = ("first", "warm")


@dataclass(frozen=True)
class ResultRow:
    """One process launch of one program (docs/formats.md section 3)."""

    run_id: str
    row_index: int
    program_id: str
    launch_index: int
    launch_kind: str
    page_cache_dropped: bool
    status: str
    core: int
    threads: int
    device: dict
    manifest_entry: dict
    runner: dict | None
    runner_exit_code: int | None
    runner_stderr: str
    env_before: dict
    env_after: dict
    started_utc: str
    wall_s: float
    schema: str = RESULT_ROW_SCHEMA
    schema_version: int = 1

    def __post_init__(self):
        if self.status not in ROW_STATUSES:
            raise ResultsError(f"row status {self.status!r} is not one of {ROW_STATUSES}")
        if self.launch_kind not in LAUNCH_KINDS:
            raise ResultsError(f"launch_kind {self.launch_kind!r} is not one of {LAUNCH_KINDS}")

    @property
    def key(self) -> tuple[str, int]:
        return (self.program_id, self.launch_index)

    def to_json(self) -> dict:
        data = asdict(self)
        ordered = {"schema": data.pop("schema"), "schema_version": data.pop("schema_version")}
        ordered.update(data)
        return ordered


def utc_now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(serial_spec: str, now: datetime | None = None) -> str:
    """``20261123T110000Z-<serial slug>``."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", serial_spec).strip("-") or "device"
    return f"{stamp}-{slug}"


@dataclass
class ExistingRows:
    keys: set[tuple[str, int]] = field(default_factory=set)
    count: int = 0
    truncated_tail_bytes: int = 0  # bytes of an unfinished last line (cut off by repair)


class RunFolder:
    """results/<run_id>/ with its results.jsonl and run.json."""

    def __init__(self, results_dir: Path, run_id: str):
        self.run_id = run_id
        self.path = Path(results_dir) / run_id
        self.results_path = self.path / RESULTS_FILE
        self.run_path = self.path / RUN_FILE

    @classmethod
    def new(cls, results_dir: Path, run_id: str) -> "RunFolder":
        """A run folder that does not exist yet (it is made by the first write_run_info)."""
        folder = cls(results_dir, run_id)
        if folder.path.exists():
            raise ResultsError(f"run folder {folder.path} already exists; pass --resume {run_id} to continue it")
        return folder

    @property
    def has_run_info(self) -> bool:
        return self.run_path.is_file()

    @classmethod
    def open_existing(cls, results_dir: Path, run_id: str) -> "RunFolder":
        folder = cls(results_dir, run_id)
        if not folder.run_path.is_file():
            raise ResultsError(f"no run {run_id} in {Path(results_dir)} ({folder.run_path} is missing); "
                               "check --out and the run id printed by the interrupted sweep")
        return folder

    def write_run_info(self, info: dict) -> None:
        """Write run.json atomically (temporary file + rename)."""
        info = {"schema": RUN_SCHEMA, "schema_version": 1, **info}
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.run_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(info, indent=2, sort_keys=False) + "\n")
        os.replace(temporary, self.run_path)

    def read_run_info(self) -> dict:
        try:
            info = json.loads(self.run_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ResultsError(f"{self.run_path} is unreadable ({exc}); start a new run without --resume") from None
        if info.get("schema") != RUN_SCHEMA or info.get("schema_version") not in RUN_SCHEMA_VERSIONS:
            raise ResultsError(f"{self.run_path} has schema {info.get('schema')!r} "
                               f"version {info.get('schema_version')!r}; "
                               f"this harness reads {RUN_SCHEMA} versions {list(RUN_SCHEMA_VERSIONS)}")
        return info

    def existing_rows(self) -> ExistingRows:
        return scan_rows(self.results_path)

    def repair_truncated_tail(self) -> int:
        """Cut an unfinished last line (crash mid-write); returns the number of bytes removed."""
        rows = scan_rows(self.results_path)
        if rows.truncated_tail_bytes:
            size = self.results_path.stat().st_size
            with open(self.results_path, "r+b") as handle:
                handle.truncate(size - rows.truncated_tail_bytes)
        return rows.truncated_tail_bytes

    def open_writer(self) -> "RowWriter":
        return RowWriter(self.results_path)


def scan_rows(results_path: Path) -> ExistingRows:
    """Keys and count of the rows in results.jsonl.

    The last line may be unfinished (no newline, or not JSON): it is reported as a
    truncated tail. Any other bad line, a repeated key, or an unknown schema version is
    an error: the file is not what this harness wrote.
    """
    existing = ExistingRows()
    if not results_path.is_file():
        return existing
    data = results_path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
        complete_through = len(lines)
    else:
        complete_through = len(lines) - 1  # the last line has no newline
    for number, line in enumerate(lines, start=1):
        is_last = number == len(lines)
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not an object")
        except ValueError:
            if is_last:
                existing.truncated_tail_bytes = len(line) + (0 if number > complete_through else 1)
                break
            raise ResultsError(f"{results_path} line {number} is not a JSON row; move the file aside "
                               "and start a new run") from None
        if is_last and number > complete_through:
            existing.truncated_tail_bytes = len(line)  # valid JSON but never finished with a newline
            break
        check_row_schema(row, results_path, number)
        key = (row.get("program_id"), row.get("launch_index"))
        if key in existing.keys:
            raise ResultsError(f"{results_path} line {number} repeats {key[0]} launch {key[1]}; "
                               "the file was edited by hand: move it aside and start a new run")
        existing.keys.add(key)
        existing.count += 1
    return existing


def check_row_schema(row: dict, path: Path, line_number: int) -> None:
    if row.get("schema") != RESULT_ROW_SCHEMA or row.get("schema_version") not in RESULT_ROW_SCHEMA_VERSIONS:
        raise ResultsError(f"{path} line {line_number} has schema {row.get('schema')!r} version "
                           f"{row.get('schema_version')!r}; this harness reads {RESULT_ROW_SCHEMA} "
                           f"versions {list(RESULT_ROW_SCHEMA_VERSIONS)}")


class RowWriter:
    """Appends rows to results.jsonl, one flushed and fsynced line each."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "a", encoding="utf-8")

    def append(self, row: ResultRow) -> None:
        self.handle.write(json.dumps(row.to_json(), separators=(",", ":")) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> "RowWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
