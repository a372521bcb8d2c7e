"""run.json (docs/formats.md, section 5): a sweep's settings, programs, manifest, harness, device and sessions.

Written by bench/ (bench.sweep.record keeps it up to date, atomically); read by bench/ to resume a run and by
analysis/ for the report. A session is one process of the sweep: the first run or a resume (Session).

Version 2 added `manifest.model` (the manifest's model section), so that a report needs nothing but the
run's own files, and split the settings' `formats` filter into `backends` (xnnpack, lite, ...) and `formats`
(pte, ptl). Version 1 files read with `manifest.model` absent and their mixed filter split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from formats.backends import PROGRAM_FORMATS, RUNTIME_TABLE
from formats.errors import ResultsError
from formats.json_file import write_json_atomically
from formats.schema import check_schema, versioned

RUN_SCHEMA = "splitbench.run"
RUN_SCHEMA_VERSION = 2
RUN_VERSIONS: tuple[int, ...] = (1, 2)
RUN_FILE = "run.json"
SESSION_RUNNING = "running"  # a session's `end` while its process lives (or after it died unannounced)
SESSION_DIED = "died"  # what a resume writes over a session that was still "running": it died unannounced
SESSION_COMPLETE = "complete"
SESSION_INTERRUPTED = "interrupted"
SESSION_STOPPED = "stopped: "  # followed by the reason


@dataclass
class RuntimeRunnerRecord:
    """Which runner build ran a runtime's programs in a session (a session field named by the runtime's
    `session_field` in formats.backends, e.g. `lite_runner`), or why its programs were not run."""

    folder: str | None
    runner_version: str | None
    unavailable_reason: str | None


@dataclass
class Session:
    """One process of a sweep (the first run or a resume), as run.json's `sessions` holds it.

    `end` is SESSION_RUNNING while it runs, then "complete", "interrupted", "stopped: <reason>" or (written by the
    next resume) "died". `device_lock_takeover` and `leftover_runners_ended` are None in sessions written before
    they existed (absent from the file); `runtime_runners` maps a session field (`lite_runner`) to its record;
    `other` keeps fields this reader does not know, so that rewriting run.json never drops them.
    """

    started_utc: str
    serial: str
    deploy: dict[str, Any] | None = None
    ended_utc: str | None = None
    rows_written: int = 0
    end: str = SESSION_RUNNING
    repaired_tail_bytes: int = 0
    device_lock_takeover: dict[str, Any] | None = None
    leftover_runners_ended: list[dict[str, Any]] | None = None
    runtime_runners: dict[str, RuntimeRunnerRecord] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The session's JSON object; the device claim's two fields only once recorded (the takeover may be null)."""
        data: dict[str, Any] = dict(self.other)
        for item in fields(self):
            if item.name in ("runtime_runners", "other"):
                continue
            if item.name in ("device_lock_takeover", "leftover_runners_ended") and self.leftover_runners_ended is None:
                continue
            data[item.name] = getattr(self, item.name)
        for name, record in self.runtime_runners.items():
            data[name] = vars(record).copy()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        """A session as read (older sessions lack the later fields)."""
        runner_fields = tuple(runtime.session_field for runtime in RUNTIME_TABLE if runtime.session_field)
        known = {item.name for item in fields(cls)} - {"runtime_runners", "other"}
        values = {name: value for name, value in data.items() if name in known}
        runners = {name: RuntimeRunnerRecord(**{key: data[name].get(key) for key in
                                               ("folder", "runner_version", "unavailable_reason")})
                   for name in runner_fields if isinstance(data.get(name), dict)}
        other = {name: value for name, value in data.items() if name not in known and name not in runners}
        if not isinstance(values.get("started_utc"), str) or not isinstance(values.get("serial"), str):
            raise ResultsError("a session of run.json lacks started_utc or serial; the file is damaged: "
                               "restore it, or start a new run without --resume")
        return cls(**values, runtime_runners=runners, other=other)


def write_run_info(path: Path, info: dict[str, Any]) -> None:
    """Write run.json atomically (temporary file + rename), at the current version."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, versioned(RUN_SCHEMA, RUN_SCHEMA_VERSION, info))


def read_run_info(path: Path, advice: str = "start a new run without --resume") -> dict[str, Any]:
    """The run's info, checked; ResultsError (unreadable, not an object) or UnsupportedSchema otherwise."""
    path = Path(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path} is unreadable ({error}); {advice}") from None
    version = check_schema(info, RUN_SCHEMA, RUN_VERSIONS, str(path), advice=advice)
    if version == 1:
        _split_v1_formats_filter(info.get("settings"))
    return info


def _split_v1_formats_filter(settings: Any) -> None:
    """Version 1's settings.formats held backend names and file formats alike."""
    if not isinstance(settings, dict) or not settings.get("formats"):
        return
    if not isinstance(settings["formats"], list) or not all(isinstance(name, str) for name in settings["formats"]):
        return  # not a filter this reader can split: the settings check of a resume (or of the report) names it
    mixed = list(settings["formats"])
    backends = [name for name in mixed if name not in PROGRAM_FORMATS]
    settings["backends"] = backends or None
    settings["formats"] = [name for name in mixed if name in PROGRAM_FORMATS] or None


# What resuming a run needs from its run.json, and the JSON type each must have.
RESUME_FIELDS: tuple[tuple[str, type], ...] = (
    ("run_id", str), ("settings", dict), ("core", int), ("manifest", dict), ("programs", list),
    ("device", dict), ("sessions", list),
)


def check_resumable(info: dict[str, Any], where: str) -> None:
    """ResultsError naming the first field of a read run.json that a resume cannot use (missing or of the wrong
    type): the file was damaged or edited, and the run cannot be continued."""
    advice = "the file is damaged: restore it, or start a new run without --resume"
    for name, kind in RESUME_FIELDS:
        value = info.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            found = "missing" if name not in info else _json_type_name(value)
            raise ResultsError(f"{where}: {name} is {found}, expected {_json_type_name(kind())}; {advice}")
    for name in ("path", "sha256"):
        if not isinstance(info["manifest"].get(name), str):
            raise ResultsError(f"{where}: manifest.{name} is missing or not text; {advice}")
    if not all(isinstance(session, dict) for session in info["sessions"]):
        raise ResultsError(f"{where}: sessions holds an entry that is not an object; {advice}")


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    names = {str: "text", dict: "an object", list: "a list", int: "an integer", float: "a number"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)
