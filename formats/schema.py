"""The one check every versioned document goes through: its schema name and a version this reader knows."""

from __future__ import annotations

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
