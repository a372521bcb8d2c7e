"""Progress events the pipeline reports to its caller (the command line prints them)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PROJECTION_FITTED = "projection_fitted"
PROJECTION_REUSED = "projection_reused"
PROGRAM_EXPORTED = "program_exported"
PROGRAM_REUSED = "program_reused"
PROGRAM_DELEGATION = "program_delegation"  # detail: the lowered graph's delegation summary (int8 programs)


@dataclass(frozen=True)
class ExportEvent:
    kind: str
    name: str
    detail: str = ""


EventSink = Callable[[ExportEvent], None]


def ignore_event(event: ExportEvent) -> None:
    """The default sink: report nothing."""
