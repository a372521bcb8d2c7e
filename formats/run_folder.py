"""results/<run_id>/: one sweep's results.jsonl and run.json, and the run ids that name such folders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from formats.errors import ResultsError
from formats.results import RESULTS_FILE, RowWriter, read_rows
from formats.run_info import RUN_FILE, read_run_info, write_run_info


def utc_now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(serial_spec: str, now: datetime | None = None) -> str:
    """``20261123T110000Z-<serial slug>``."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", serial_spec).strip("-") or "device"
    return f"{stamp}-{slug}"


RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_run_id(run_id: str) -> None:
    """ResultsError unless `run_id` is a plain folder name (no path, no `..`), as new_run_id makes them."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise ResultsError(f"{run_id!r} is not a run id: give the name of a run folder in --out "
                           "(as printed by the sweep, e.g. 20261123T110000Z-loopback-1a2b3c), not a path")


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

    @classmethod
    def open_existing(cls, results_dir: Path, run_id: str) -> "RunFolder":
        check_run_id(run_id)
        folder = cls(results_dir, run_id)
        if not folder.run_path.is_file():
            raise ResultsError(f"no run {run_id} in {Path(results_dir)} ({folder.run_path} is missing); "
                               "check --out and the run id printed by the interrupted sweep")
        return folder

    @property
    def has_run_info(self) -> bool:
        return self.run_path.is_file()

    def write_run_info(self, info: dict[str, Any]) -> None:
        write_run_info(self.run_path, info)

    def read_run_info(self) -> dict[str, Any]:
        return read_run_info(self.run_path)

    def existing_rows(self) -> ExistingRows:
        return scan_rows(self.results_path)

    def repair_truncated_tail(self) -> int:
        """Cut an unfinished last line (crash mid-write); returns the number of bytes removed."""
        tail_bytes = self.existing_rows().truncated_tail_bytes
        if tail_bytes:
            size = self.results_path.stat().st_size
            with open(self.results_path, "r+b") as handle:
                handle.truncate(size - tail_bytes)
        return tail_bytes

    def open_writer(self) -> RowWriter:
        return RowWriter(self.results_path)


def scan_rows(results_path: Path) -> ExistingRows:
    """Keys and count of the rows written so far; a repeated key means the file was edited by hand."""
    existing = ExistingRows()
    if not Path(results_path).is_file():
        return existing
    read = read_rows(results_path)
    for line in read.rows:
        key = (line.data["program_id"], line.data["launch_index"])
        if key in existing.keys:
            raise ResultsError(f"{results_path}:{line.line_number} repeats {key[0]} launch {key[1]}; "
                               "the file was edited by hand: move it aside and start a new run")
        existing.keys.add(key)
        existing.count += 1
    if read.unfinished_tail is not None:
        existing.truncated_tail_bytes = read.unfinished_tail.size_bytes
    return existing
