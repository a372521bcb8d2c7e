"""The schemas and versions this analysis reads, and the check every file and row goes through."""

from typing import Any

from analysis.errors import UnsupportedSchema

RESULT_ROW_SCHEMA = "splitbench.result_row"
RUN_SCHEMA = "splitbench.run"
RUNNER_RESULT_SCHEMA = "splitbench.runner_result"

SUPPORTED_VERSIONS: dict[str, tuple[int, ...]] = {
    RESULT_ROW_SCHEMA: (1,),
    RUN_SCHEMA: (1,),
    RUNNER_RESULT_SCHEMA: (1,),
}


def check_schema(document: Any, expected_schema: str, where: str) -> None:
    """Raise UnsupportedSchema unless `document` declares `expected_schema` at a supported version."""
    supported = SUPPORTED_VERSIONS[expected_schema]
    supported_text = ", ".join(str(version) for version in supported)
    if not isinstance(document, dict):
        raise UnsupportedSchema(f"{where}: expected a JSON object of schema {expected_schema}, found {type(document).__name__}")
    schema = document.get("schema")
    version = document.get("schema_version")
    if schema != expected_schema:
        raise UnsupportedSchema(
            f"{where}: schema is {schema!r}, expected {expected_schema!r}; pass a splitbench results folder"
        )
    if version not in supported:
        raise UnsupportedSchema(
            f"{where}: {expected_schema} schema_version {version!r} is not supported (supported: {supported_text}); "
            "use the splitbench version that wrote it or re-run the sweep"
        )
