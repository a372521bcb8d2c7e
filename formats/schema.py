"""The one check every versioned document goes through (its schema name and a version this reader knows), and
the one way a record (a dataclass) is read from a JSON object of that document."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from formats.errors import UnsupportedSchema

DEFAULT_ADVICE = "use the splitbench version that wrote it, or re-run the stage that writes it"


def check_schema(document: Any, schema: str, versions: tuple[int, ...], where: str,
                 advice: str = DEFAULT_ADVICE) -> int:
    """The document's schema_version; UnsupportedSchema unless it declares `schema` at one of `versions`."""
    if not isinstance(document, dict):
        raise UnsupportedSchema(f"{where}: expected a JSON object of schema {schema}, "
                                f"found {type(document).__name__}; {advice}")
    found = document.get("schema")
    if found != schema:
        raise UnsupportedSchema(f"{where}: schema is {found!r}, expected {schema!r}; {advice}")
    version = document.get("schema_version")
    if isinstance(version, bool) or version not in versions:
        supported = ", ".join(str(v) for v in versions)
        raise UnsupportedSchema(f"{where}: {schema} schema_version {version!r} is not supported "
                                f"(supported: {supported}); {advice}")
    return version


def versioned(schema: str, version: int, body: dict) -> dict:
    """`body` with `schema` and `schema_version` first, as every writer lays a document out."""
    return {"schema": schema, "schema_version": version,
            **{key: value for key, value in body.items() if key not in ("schema", "schema_version")}}


def record_fields(cls: type, data: Any, subject: str, error: type[Exception], advice: str) -> dict[str, Any]:
    """The values of dataclass `cls`'s fields in the JSON object `data` (other keys are left out); `error` saying
    "<subject> must be a JSON object" or "<subject> lacks <the missing fields>", then `advice`, otherwise."""
    if not isinstance(data, dict):
        raise error(f"{subject} must be a JSON object; {advice}")
    missing = [f.name for f in fields(cls) if f.name not in data]
    if missing:
        raise error(f"{subject} lacks {', '.join(missing)}; {advice}")
    return {f.name: data[f.name] for f in fields(cls)}


def build_record(cls: type, data: Any, subject: str, error: type[Exception], advice: str):
    """`cls` made from `data`'s fields (record_fields); a TypeError of `cls` itself is left to the caller."""
    return cls(**record_fields(cls, data, subject, error, advice))
