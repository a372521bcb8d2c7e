"""The trained-network study, trained_study.json (docs/formats.md, section "trained study"): EfficientNet-Lite0
on real photos, on a device, fp32 and int8, beside its random-weight twin. Written by scripts/trained_study.py,
read by analysis/ (the report's "trained network" section).

`int8_trained` / `int8_twin`: per configuration (`full`, or a split point) int8 against the fp32 full program on
`crops` seeded crops of the evaluation photos: {count, top1_agreement, top5_overlap}. `photos`: one row per
evaluation photo and device program: status, the device client's output size, the end-to-end top-5 (class
indices and ImageNet names) and its agreement with the full fp32 model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from formats.errors import ResultsError
from formats.json_file import read_json_if_present, write_json_atomically
from formats.schema import build_record, check_schema, versioned

TRAINED_STUDY_SCHEMA = "splitbench.trained_study"
TRAINED_STUDY_SCHEMA_VERSION = 1
TRAINED_STUDY_VERSIONS: tuple[int, ...] = (1,)
TRAINED_STUDY_FILE = "trained_study.json"
ADVICE = "re-run scripts/trained_study.py"
AGREEMENT_KEYS = ("count", "top1_agreement", "top5_overlap")


@dataclass(frozen=True)
class TrainedStudy:
    model: str
    twin: str
    serial: str
    splits: list[str]
    manifest: str
    twin_manifest: str
    run_folder: str | None
    evaluation_photos: list[str]
    crops: int
    crops_seed: int
    int8_trained: dict[str, dict]
    int8_twin: dict[str, dict]
    photos: list[dict]
    export_s: float
    wall_s: float
    schema: str = TRAINED_STUDY_SCHEMA
    schema_version: int = TRAINED_STUDY_SCHEMA_VERSION

    def __post_init__(self):
        for name in ("int8_trained", "int8_twin"):
            table = getattr(self, name)
            if not isinstance(table, dict) or not all(
                    isinstance(v, dict) and all(key in v for key in AGREEMENT_KEYS) for v in table.values()):
                raise ResultsError(f"trained study: {name} must map configurations to {', '.join(AGREEMENT_KEYS)}")
            for values in table.values():
                for key in ("top1_agreement", "top5_overlap"):
                    if not isinstance(values[key], (int, float)) or not 0 <= values[key] <= 1:
                        raise ResultsError(f"trained study: {name} {key} must be within 0..1")
        if not isinstance(self.photos, list) or not all(isinstance(row, dict) and "status" in row
                                                        for row in self.photos):
            raise ResultsError("trained study: photos must be a list of rows with a status")

    def to_json(self) -> dict:
        return versioned(self.schema, self.schema_version, asdict(self))


def write_trained_study(path: Path, study: TrainedStudy) -> None:
    write_json_atomically(path, study.to_json())


def check_trained_study(data: Any, where: str) -> TrainedStudy:
    check_schema(data, TRAINED_STUDY_SCHEMA, TRAINED_STUDY_VERSIONS, where, ADVICE)
    try:
        return build_record(TrainedStudy, data, f"{where}: trained study", ResultsError, ADVICE)
    except TypeError as error:
        raise ResultsError(f"{where}: malformed trained study ({error}); {ADVICE}") from error


def read_trained_study(path: Path | str) -> TrainedStudy | None:
    """The study in `path`, None when the file is absent; ResultsError when it is unreadable."""
    data = read_json_if_present(path, ADVICE)
    return None if data is None else check_trained_study(data, str(path))
