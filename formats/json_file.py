"""The one way a single-document format file is written (atomically) and read back when it may be absent, and the
one way a JSON-lines file is written (a line at a time, each on disk before the next)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from formats.errors import ResultsError


def write_json_atomically(path: Path | str, document: Any) -> None:
    """Indented JSON written to a temporary file beside `path`, then renamed into place: never half a file."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temporary, path)


def read_json_if_present(path: Path | str, advice: str) -> Any | None:
    """The parsed document, None when the file is absent; ResultsError (with `advice`) when it is unreadable."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path} is not readable JSON ({error}); {advice}") from error


class JsonLinesWriter:
    """One record per line, as its compact `to_json()`, each flushed and fsynced before `write` returns, so a crash
    loses no line already written. `append` keeps what the file holds; otherwise the file is started afresh."""

    def __init__(self, path: Path | str, append: bool):
        self.path = Path(path)
        self._handle = open(self.path, "a" if append else "w", encoding="utf-8")

    def write(self, record: Any) -> None:
        self._handle.write(json.dumps(record.to_json(), separators=(",", ":")) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
