"""The per-layer profile of the full model, layer_profile.json in a run folder (docs/formats.md, section 8):
the runner's ETDump of the full program on the device, read with ExecuTorch's Inspector, each event mapped to a
VGG-16 layer where it can be. Written by bench/cloud, read by analysis/ (Neurosurgeon-style prediction of each
split's client time) and tests."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from formats.cloud_results import CLOUD_STAGE_ADVICE
from formats.errors import ResultsError
from formats.json_file import read_json_if_present, write_json_atomically
from formats.schema import build_record, check_schema, versioned

LAYER_PROFILE_SCHEMA = "splitbench.layer_profile"
LAYER_PROFILE_SCHEMA_VERSION = 1
LAYER_PROFILE_VERSIONS: tuple[int, ...] = (1,)
LAYER_PROFILE_FILE = "layer_profile.json"
EVENT_KINDS = ("operator", "delegate_operator", "delegate_call", "method", "other")


@dataclass(frozen=True)
class ProfileEvent:
    """One ETDump event (in execution order): its name, kind, the VGG layer it was mapped to (or None), and
    the median over its samples (one sample per timed run)."""

    name: str
    kind: str
    layer: str | None
    samples: int
    median_ms: float


@dataclass(frozen=True)
class LayerTime:
    layer: str
    median_ms: float
    events: int


@dataclass(frozen=True)
class LayerProfile:
    run_id: str
    program_id: str
    backend: str
    core: int
    iterations: int
    source: str
    mapping: str
    method_execute_median_ms: float | None
    events: list[ProfileEvent]
    layers: list[LayerTime]
    measured_utc: str
    schema: str = LAYER_PROFILE_SCHEMA
    schema_version: int = LAYER_PROFILE_SCHEMA_VERSION

    def layer_ms(self) -> dict[str, float]:
        return {entry.layer: entry.median_ms for entry in self.layers}

    def to_json(self) -> dict:
        return versioned(self.schema, self.schema_version, asdict(self))


def write_layer_profile(path: Path, profile: LayerProfile) -> None:
    write_json_atomically(path, profile.to_json())


def check_layer_profile(data: Any, where: str) -> LayerProfile:
    check_schema(data, LAYER_PROFILE_SCHEMA, LAYER_PROFILE_VERSIONS, where, "re-run `python -m bench.cloud RUN_FOLDER`")
    profile = build_record(LayerProfile, data, f"{where}: LayerProfile", ResultsError, CLOUD_STAGE_ADVICE)
    try:
        events = [build_record(ProfileEvent, event, f"{where}: ProfileEvent", ResultsError, CLOUD_STAGE_ADVICE)
                  for event in profile.events]
        layers = [build_record(LayerTime, layer, f"{where}: LayerTime", ResultsError, CLOUD_STAGE_ADVICE)
                  for layer in profile.layers]
    except TypeError as error:
        raise ResultsError(f"{where}: malformed layer profile ({error}); {CLOUD_STAGE_ADVICE}") from error
    for event in events:
        if event.kind not in EVENT_KINDS:
            raise ResultsError(f"{where}: event kind {event.kind!r} is not one of {', '.join(EVENT_KINDS)}")
    if not all(isinstance(t.median_ms, (int, float)) and math.isfinite(t.median_ms) for t in (*events, *layers)):
        raise ResultsError(f"{where}: every median_ms must be a finite number; {CLOUD_STAGE_ADVICE}")
    values = {f.name: getattr(profile, f.name) for f in fields(LayerProfile)}
    values.update(events=events, layers=layers)
    return LayerProfile(**values)


def read_layer_profile(path: Path | str) -> LayerProfile | None:
    """The profile in `path`, None when the file is absent; ResultsError when it is unreadable."""
    data = read_json_if_present(path, CLOUD_STAGE_ADVICE)
    return None if data is None else check_layer_profile(data, str(path))
