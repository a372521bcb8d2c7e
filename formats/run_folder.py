"""results/<run_id>/: one sweep's results.jsonl and run.json, and the run ids that name such folders."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from formats.errors import ResultsError
from formats.results import RESULTS_FILE, RowWriter, read_rows
from formats.run_info import RUN_FILE, read_run_info, write_run_info


def utc_now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(serial_spec: str, now: datetime | None = None, suffix: str | None = None) -> str:
    """``20261123T110000Z-<serial slug>-<suffix>``: sortable by time; the suffix (6 random hex digits unless
    given) keeps two runs started in the same second on the same device apart."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", serial_spec).strip("-.") or "device"
    slug = re.sub(r"\.{2,}", ".", slug)
    return f"{stamp}-{slug}-{suffix or secrets.token_hex(3)}"


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
        self._write_lock: IO[str] | None = None  # the open results.jsonl holding the flock, see lock_for_writing
        self._made_here = False

    @classmethod
    def new(cls, results_dir: Path, run_id: str) -> RunFolder:
        """Make the folder of a new run, atomically (mkdir): ResultsError when it exists already."""
        folder = cls(results_dir, run_id)
        Path(results_dir).mkdir(parents=True, exist_ok=True)
        try:
            folder.path.mkdir()
        except FileExistsError:
            raise ResultsError(f"run folder {folder.path} already exists; pass --resume {run_id} to continue it") from None
        folder._made_here = True
        return folder

    @classmethod
    def create(cls, results_dir: Path, serial_spec: str, attempts: int = 8) -> RunFolder:
        """The folder of a new run under a fresh run id (new_run_id), made atomically: two sweeps started
        in the same second never share one."""
        for _ in range(attempts):
            with contextlib.suppress(ResultsError):
                return cls.new(results_dir, new_run_id(serial_spec))
        raise ResultsError(f"could not make a new run folder in {results_dir} after {attempts} attempts; "
                           "check --out")

    def lock_for_writing(self) -> None:
        """Hold an exclusive flock on results.jsonl until unlock() (or this process ends): one writer per run.

        A second sweep of the same run (a second --resume) fails here at once, before it changes or measures
        anything."""
        handle = open(self.results_path, "a", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ResultsError(f"run {self.run_id} is being written by another sweep ({self.results_path} is "
                               "locked): let that sweep finish, or stop it, then resume") from None
        self._write_lock = handle

    def unlock(self) -> None:
        """Release the write lock; the folder of a new run that never got its run.json is removed."""
        if self._write_lock is None:
            return
        if self._made_here and not self.has_run_info and os.path.getsize(self.results_path) == 0:
            with contextlib.suppress(OSError):
                self.results_path.unlink()
                self.path.rmdir()
        self._write_lock.close()
        self._write_lock = None

    @classmethod
    def open_existing(cls, results_dir: Path, run_id: str) -> RunFolder:
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
