"""Results rows, results.jsonl (docs/formats.md, section 3): one JSON row per process launch, append-only.

Written by bench/ one flushed and fsynced line at a time, so a crash loses at most the launch that was
running and leaves at most one unfinished last line; read by bench/ (to resume) and analysis/.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from formats.errors import FormatError, ResultsError
from formats.json_file import JsonLinesWriter
from formats.runner_result import check_runner_result
from formats.schema import check_schema

RESULT_ROW_SCHEMA = "splitbench.result_row"
RESULT_ROW_SCHEMA_VERSION = 1
RESULT_ROW_VERSIONS: tuple[int, ...] = (1,)
RESULTS_FILE = "results.jsonl"
ROW_STATUSES = ("ok", "runner_error", "runner_crash", "deploy_error", "timeout", "unsupported")
LAUNCH_KINDS = ("first", "warm")
REQUIRED_ROW_FIELDS: tuple[str, ...] = (
    "run_id", "program_id", "launch_index", "launch_kind", "status", "core", "threads", "device", "manifest_entry",
)


@dataclass(frozen=True)
class ResultRow:
    """One process launch of one program, as bench/ writes it."""

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
    schema_version: int = RESULT_ROW_SCHEMA_VERSION

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
        return {"schema": data.pop("schema"), "schema_version": data.pop("schema_version"), **data}


@dataclass(frozen=True)
class RowLine:
    """A complete, checked row and the line it stands on (1-based)."""

    line_number: int
    data: dict[str, Any]


@dataclass(frozen=True)
class UnfinishedTail:
    """The last line of a file whose writer died mid-write: not JSON, or never ended with a newline."""

    line_number: int
    size_bytes: int  # what to cut from the end of the file to remove it (its newline included)
    reason: str
    data: dict[str, Any] | None  # the row, when the line is complete JSON that only lacks its newline


@dataclass(frozen=True)
class RowsRead:
    rows: list[RowLine]
    unfinished_tail: UnfinishedTail | None


def check_row(row: Any, where: str) -> None:
    """ResultsError / UnsupportedSchema unless `row` is a row this reader understands, whole."""
    check_schema(row, RESULT_ROW_SCHEMA, RESULT_ROW_VERSIONS, where)
    missing = [name for name in REQUIRED_ROW_FIELDS if name not in row]
    if missing:
        raise ResultsError(f"{where}: row lacks {', '.join(missing)}; the file was not written by bench/ or is damaged")
    if row["status"] not in ROW_STATUSES or row["launch_kind"] not in LAUNCH_KINDS:
        raise ResultsError(f"{where}: row has status {row['status']!r} and launch_kind {row['launch_kind']!r}; "
                           f"expected one of {ROW_STATUSES} and {LAUNCH_KINDS}: the row is damaged")
    _check_field_types(row, where)
    runner = row.get("runner")
    if runner is not None:
        check_runner_result(runner, f"{where} (embedded runner result)")
    if row["status"] == "ok":
        timing = runner.get("timing") if isinstance(runner, dict) else None
        if not isinstance(timing, dict):
            raise ResultsError(f"{where}: row has status ok but no runner timing; the row is damaged, "
                               "re-run that program")
        _check_numbers(timing, where)


TEXT_ROW_FIELDS = ("run_id", "program_id", "launch_kind", "status")
INTEGER_ROW_FIELDS = ("row_index", "launch_index", "core", "threads")
OBJECT_ROW_FIELDS = ("device", "manifest_entry", "runner", "env_before", "env_after")  # null allowed but for device
# A field named with one of these units holds a number (or null, or a list or name->value object of them).
NUMBER_UNIT_SUFFIXES = ("_ms", "_kb", "_bytes", "_khz", "_c", "_s", "_gflops", "_percent")
NUMBER_ENTRY_FIELDS = ("flops", "param_count")
TEXT_ENTRY_FIELDS = ("id", "configuration", "role", "format", "backend", "arch", "split_point")


def _damaged(where: str, field: str, value: Any, expected: str) -> ResultsError:
    shown_value = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return ResultsError(f"{where}: field {field} holds {shown_value}, not {expected}; the row is damaged: "
                        "remove it or re-run that program")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _check_field_types(row: dict, where: str) -> None:
    """The row's own fields have the types bench/ writes, and every unit-named field inside it is numeric."""
    timing = row["runner"].get("timing") if isinstance(row.get("runner"), dict) else None
    if isinstance(timing, dict):
        _check_numbers(timing, where)  # names the offending sample itself
    for name in TEXT_ROW_FIELDS:
        if not isinstance(row[name], str):
            raise _damaged(where, name, row[name], "text")
    for name in INTEGER_ROW_FIELDS:
        if name in row and (isinstance(row[name], bool) or not isinstance(row[name], int)):
            raise _damaged(where, name, row[name], "an integer")
    for name in OBJECT_ROW_FIELDS:
        value = row.get(name)
        if not isinstance(value, dict) and (value is not None or name == "device"):
            raise _damaged(where, name, value, "a JSON object")
    if row.get("wall_s") is not None and not _is_number(row["wall_s"]):
        raise _damaged(where, "wall_s", row["wall_s"], "a number")
    exit_code = row.get("runner_exit_code")
    if exit_code is not None and (isinstance(exit_code, bool) or not isinstance(exit_code, int)):
        raise _damaged(where, "runner_exit_code", exit_code, "an integer or null")
    if row.get("runner_stderr") is not None and not isinstance(row["runner_stderr"], str):
        raise _damaged(where, "runner_stderr", row["runner_stderr"], "text or null")
    runner = row.get("runner") or {}
    for name in ("error_kind", "message"):
        if runner.get(name) is not None and not isinstance(runner[name], str):
            raise _damaged(where, f"runner.{name}", runner[name], "text or null")
    for name in ("env_before", "env_after"):
        temperatures = (row.get(name) or {}).get("temperatures_c")
        if temperatures is not None and not isinstance(temperatures, dict):
            raise _damaged(where, f"{name}.temperatures_c", temperatures, "an object of zone temperatures")
    timing = runner.get("timing")
    if isinstance(timing, dict):
        for name in ("inference_ms", "inference_cpu_ms", "warmup_ms"):
            if timing.get(name) is not None and not isinstance(timing[name], list):
                raise _damaged(where, f"runner.timing.{name}", timing[name], "a list of numbers")
    affinity = runner.get("affinity")
    if affinity is not None and not isinstance(affinity, dict):
        raise _damaged(where, "runner.affinity", affinity, "a JSON object")
    observed = (affinity or {}).get("cpus_observed")
    if observed is not None and not isinstance(observed, list):
        raise _damaged(where, "runner.affinity.cpus_observed", observed, "a list of cores")
    interference = runner.get("interference")
    if interference is not None and not isinstance(interference, dict):
        raise _damaged(where, "runner.interference", interference, "a JSON object")
    margin = (interference or {}).get("preempted_margin")
    if margin is not None and not (isinstance(margin, dict) and all(
            _is_number(margin.get(name)) for name in ("fraction_of_wall", "floor_ms"))):
        raise _damaged(where, "runner.interference.preempted_margin", margin,
                       "an object of numbers fraction_of_wall and floor_ms")
    for name in ("timing", "memory"):
        if runner.get(name) is not None and not isinstance(runner[name], dict):
            raise _damaged(where, f"runner.{name}", runner[name], "a JSON object")
    accuracy = (row.get("manifest_entry") or {}).get("accuracy")
    if accuracy is not None and not isinstance(accuracy, dict):
        raise _damaged(where, "manifest_entry.accuracy", accuracy, "a JSON object")
    entry = row.get("manifest_entry") or {}
    for name in NUMBER_ENTRY_FIELDS:
        if entry.get(name) is not None and not _is_number(entry[name]):
            raise _damaged(where, f"manifest_entry.{name}", entry[name], "a number")
    for name in TEXT_ENTRY_FIELDS:  # the analysis's table keys: one text value each
        if entry.get(name) is not None and not isinstance(entry[name], str):
            raise _damaged(where, f"manifest_entry.{name}", entry[name], "text")
    for name in OBJECT_ROW_FIELDS:
        value = row.get(name)
        if name == "runner" and isinstance(value, dict):  # its timing was checked above, sample by sample
            value = {key: item for key, item in value.items() if key != "timing"}
        _check_unit_fields(value, name, where)


def _check_unit_fields(value: Any, path: str, where: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                _check_unit_fields(item, f"{path}[{index}]", where)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        field = f"{path}.{key}"
        if isinstance(key, str) and key.endswith(NUMBER_UNIT_SUFFIXES):
            items = item.values() if isinstance(item, dict) else item if isinstance(item, list) else [item]
            bad = next((part for part in items if part is not None and not _is_number(part)), None)
            if bad is not None:
                raise _damaged(where, field, bad, "a number")
        elif isinstance(item, (dict, list)):
            _check_unit_fields(item, field, where)


def _check_numbers(timing: dict, where: str) -> None:
    """Every `*_ms` field of the timing (a number, a list of numbers, or null for a single value)."""
    for name, value in timing.items():
        if not name.endswith("_ms"):
            continue
        values = value if isinstance(value, list) else [value]
        if set(map(type, values)) <= {float, int} and all(map(math.isfinite, values)):
            continue  # the common case, checked at C speed (a launch may hold 100,000 samples)
        for item in values:
            if item is None and not isinstance(value, list):
                continue
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
                raise ResultsError(f"{where}: runner timing {name} holds {item!r}, not a finite number; "
                                   "the row is damaged: remove it or re-run that program")


def read_rows(path: Path) -> RowsRead:
    """Every complete row of a results.jsonl, checked; blank lines are passed over.

    The last line may be unfinished (not JSON, or no newline): it is reported, not raised. Any other line
    that is not JSON, or a row this reader does not understand, raises naming the file and line.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ResultsError(f"{path}: cannot be read ({error.strerror}); check the path and its permissions") from None
    try:
        data.decode("utf-8")  # the writer writes ASCII JSON: any other byte means another kind of file
    except UnicodeDecodeError as error:
        raise ResultsError(f"{path}: not UTF-8 text (byte {error.start}); pass a results file written by bench/") from None
    lines = data.split(b"\n")
    ends_with_newline = lines[-1] == b""
    if ends_with_newline:
        lines.pop()
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    rows: list[RowLine] = []
    tail: UnfinishedTail | None = None
    for position, (number, line) in enumerate(numbered):
        is_last = position == len(numbered) - 1
        terminated = not (is_last and number == len(lines) and not ends_with_newline)
        where = f"{path}:{number}"
        try:
            row = json.loads(line.decode("utf-8"))
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            if is_last:
                tail = UnfinishedTail(number, len(data) - _offset_of_line(lines, number), f"not JSON ({error})", None)
                break
            raise ResultsError(f"{where}: not valid JSON ({error}); the file is damaged: move the line or the "
                               "file aside") from None
        if not terminated:
            tail = UnfinishedTail(number, len(line), "no newline at the end", row if _is_whole_row(row, where) else None)
            break
        check_row(row, where)
        rows.append(RowLine(number, row))
    return RowsRead(rows, tail)


def _is_whole_row(row: dict, where: str) -> bool:
    try:
        check_row(row, where)
    except FormatError:
        return False
    return True


def _offset_of_line(lines: list[bytes], number: int) -> int:
    return sum(len(line) + 1 for line in lines[:number - 1])


class RowWriter(JsonLinesWriter):
    """Appends rows to results.jsonl, one flushed and fsynced line each."""

    def __init__(self, path: Path):
        super().__init__(path, append=True)

    def append(self, row: ResultRow) -> None:
        self.write(row)
