"""run.json (docs/formats.md, section 5): a sweep's settings, programs, manifest, harness, device and sessions.

Written by bench/ (bench.sweep.record keeps it up to date, atomically); read by bench/ to resume a run and by
analysis/ for the report. A session is one process of the sweep: the first run or a resume.

Version 2 added `manifest.model` (the manifest's model section), so that a report needs nothing but the
run's own files, and split the settings' `formats` filter into `backends` (xnnpack, lite, ...) and `formats`
(pte, ptl). Version 1 files read with `manifest.model` absent and their mixed filter split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from formats.errors import ResultsError
from formats.json_file import write_json_atomically
from formats.paper import PROGRAM_FORMATS
from formats.schema import check_schema, versioned

RUN_SCHEMA = "splitbench.run"
RUN_SCHEMA_VERSION = 2
RUN_VERSIONS: tuple[int, ...] = (1, 2)
RUN_FILE = "run.json"
SESSION_RUNNING = "running"  # a session's `end` while its process lives (or after it died unannounced)
SESSION_DIED = "died"  # what a resume writes over a session that was still "running": it died unannounced


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
