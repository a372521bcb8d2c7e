"""results/<run_id>/: one sweep's results.jsonl and run.json, and the run ids that name such folders; and
results/<group_id>/ (docs/formats.md, section 5b): several devices swept by one command, group.json beside one
ordinary run folder per device.

group.json version 1 is the first: folders without one are single runs, read as before."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from formats.errors import ResultsError
from formats.json_file import write_json_atomically
from formats.results import RESULTS_FILE, RowWriter, read_rows
from formats.run_info import RUN_FILE, read_run_info, write_run_info
from formats.schema import check_schema, versioned


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


# -- several devices in one command ---------------------------------------------------------------------------
GROUP_FILE = "group.json"
GROUP_SCHEMA = "splitbench.run_group"
GROUP_SCHEMA_VERSION = 1
GROUP_VERSIONS: tuple[int, ...] = (1,)
GROUP_ID_LABEL = "devices"


@dataclass
class GroupMember:
    """One device of a group: its serial, its run folder's id once it has one, and how its last sweep ended."""

    serial: str
    run_id: str | None = None
    exit_code: int | None = None  # of bench.run_device: 0 done, 1 partial, 2 error, 130 interrupted; None: not yet

    @property
    def finished(self) -> bool:
        return self.exit_code == 0


@dataclass
class RunGroup:
    """results/<group_id>/group.json: a sweep of several devices at once, one ordinary run folder per device
    beside it (results/<group_id>/<run_id>/), so that every reader of run folders reads each device's alone."""

    group_id: str
    created_utc: str
    start_args: list[str]  # bench.run_device options that start a device's sweep (without --serial/--out)
    resume_args: list[str]  # the options that a resume keeps (manifest, runner bundles, transport, ...)
    members: list[GroupMember]

    def member(self, serial: str) -> GroupMember:
        return next(member for member in self.members if member.serial == serial)

    def to_json(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "created_utc": self.created_utc, "start_args": self.start_args,
                "resume_args": self.resume_args,
                "devices": [{"serial": m.serial, "run_id": m.run_id, "exit_code": m.exit_code} for m in self.members]}


def group_path(results_dir: Path, group_id: str) -> Path:
    return Path(results_dir) / group_id / GROUP_FILE


def is_group(results_dir: Path, run_or_group_id: str) -> bool:
    """Whether results/<id> is a group of device runs (it holds group.json) rather than one run."""
    return RUN_ID_PATTERN.fullmatch(run_or_group_id) is not None and ".." not in run_or_group_id \
        and group_path(results_dir, run_or_group_id).is_file()


def create_group_folder(results_dir: Path, attempts: int = 8) -> Path:
    """The folder of a new group, made atomically under a fresh id ``<time>-devices-<suffix>``."""
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    for _ in range(attempts):
        folder = Path(results_dir) / new_run_id(GROUP_ID_LABEL)
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
            return folder
    raise ResultsError(f"could not make a new group folder in {results_dir} after {attempts} attempts; check --out")


def write_group(results_dir: Path, group: RunGroup) -> None:
    write_json_atomically(group_path(results_dir, group.group_id),
                          versioned(GROUP_SCHEMA, GROUP_SCHEMA_VERSION, group.to_json()))


def read_group(results_dir: Path, group_id: str) -> RunGroup:
    """group.json, checked: ResultsError naming what is wrong and what to do otherwise."""
    check_run_id(group_id)
    path = group_path(results_dir, group_id)
    advice = "restore it, or start the devices again without --resume"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path} is unreadable ({error}); {advice}") from None
    check_schema(data, GROUP_SCHEMA, GROUP_VERSIONS, str(path), advice=advice)
    try:
        members = [GroupMember(serial=str(entry["serial"]), run_id=entry.get("run_id"), exit_code=entry.get("exit_code"))
                   for entry in data["devices"]]
        group = RunGroup(group_id=str(data["group_id"]), created_utc=str(data["created_utc"]),
                         start_args=[str(arg) for arg in data["start_args"]],
                         resume_args=[str(arg) for arg in data["resume_args"]], members=members)
    except (KeyError, TypeError, AttributeError) as error:
        raise ResultsError(f"{path} lacks {error} or has it in the wrong form; {advice}") from None
    for member in members:
        if member.run_id is not None:
            check_run_id(member.run_id)
        if member.exit_code is not None and not isinstance(member.exit_code, int):
            raise ResultsError(f"{path}: exit_code of {member.serial} is not a number; {advice}")
    return group


def run_ids_for_serial(group_folder: Path, serial: str) -> list[str]:
    """The ids of the run folders in a group folder whose run.json names `serial`, oldest first."""
    found = []
    for run_file in sorted(Path(group_folder).glob(f"*/{RUN_FILE}")):
        with contextlib.suppress(ResultsError, OSError):
            info = read_run_info(run_file)
            if info.get("serial_spec") == serial:
                found.append((str(info.get("created_utc", "")), run_file.parent.name))
    return [run_id for _, run_id in sorted(found)]
