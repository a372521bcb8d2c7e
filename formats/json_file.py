"""The one way a single-document format file is written (atomically) and read back when it may be absent."""

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
