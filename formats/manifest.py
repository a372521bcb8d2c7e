"""The export manifest, manifest.json (docs/formats.md, section 1): dataclasses, writer, validated reader.

Written by export/, read by bench/ (which programs to run) and by tests; analysis/ sees only the program
entries that bench/ copies into each results row. Version 2 adds, per program, `arch`, `quantization` and
`accuracy` (export/README.md). Version 1 manifests are still read: their programs read as `arch` vgg16, no
quantization, no accuracy figures. Version 3 adds `data_file` and `data_keys`: a program whose weights live in
a shared ExecuTorch data file (.ptd) beside it names that file and the keys it needs there (cloud remainders);
older manifests read with both null (every program self-contained).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from formats.errors import ManifestError
from formats.json_file import write_json_atomically
from formats.paper import PROGRAM_FORMATS
from formats.schema import record_fields

MANIFEST_SCHEMA = "splitbench.manifest"
MANIFEST_SCHEMA_VERSION = 3
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3)
V1_ARCH = "vgg16"  # the only architecture a version 1 manifest can hold
ADDED_IN_V2 = ("arch", "quantization", "accuracy")
ADDED_IN_V3 = ("data_file", "data_keys")
ROLES = ("full", "client", "cloud")


@dataclass(frozen=True)
class ModelInfo:
    arch: str
    num_classes: int
    input_size: int
    width_divisor: int
    weights: str


@dataclass(frozen=True)
class ReductionInfo:
    """PCA reduction of a reduced configuration; `projection_file` is relative to the manifest's folder."""

    k: int
    explained_variance_ratio: float
    projection_file: str
    calibration: str


@dataclass(frozen=True)
class NoiseInfo:
    """Gaussian noise in the PCA space; `op` names the random operator the program calls."""

    variance: float
    seed_policy: str
    op: str


@dataclass(frozen=True)
class CalibrationInfo:
    """A set of images: where it comes from, how many, and the sha256 of the normalised float32 tensor."""

    source: str
    count: int
    sha256: str


@dataclass(frozen=True)
class QuantizationInfo:
    """How an int8 program was quantized and on which calibration images."""

    scheme: str
    weights: str
    activations: str
    calibration: CalibrationInfo

    @classmethod
    def from_json(cls, data: Any, what: str) -> QuantizationInfo:
        values = _record_fields(cls, data, what)
        values["calibration"] = _build(CalibrationInfo, values["calibration"], f"calibration of {what}")
        return cls(**values)


@dataclass(frozen=True)
class AccuracyInfo:
    """The int8 program against its fp32 twin (the eager module) on held-out images.

    `top1_agreement` is the share of images whose arg-max class agrees (programs that output class scores:
    full and cloud; null for clients). Cosine similarity is per image over the flattened output; the relative
    error is ||int8 - fp32|| / ||fp32|| over all held-out outputs together.
    """

    reference: str
    heldout: CalibrationInfo
    top1_agreement: float | None
    cosine_similarity_mean: float
    cosine_similarity_min: float
    relative_error: float
    note: str

    @classmethod
    def from_json(cls, data: Any, what: str) -> AccuracyInfo:
        values = _record_fields(cls, data, what)
        values["heldout"] = _build(CalibrationInfo, values["heldout"], f"held-out images of {what}")
        return cls(**values)


@dataclass(frozen=True)
class ProgramEntry:
    id: str
    configuration: str
    role: str
    split_point: str | None
    reduction: ReductionInfo | None
    noise: NoiseInfo | None
    format: str
    backend: str
    dtype: str
    file: str
    sha256: str
    size_bytes: int
    input_shape: list[int]
    input_dtype: str
    output_shape: list[int]
    output_dtype: str
    output_size_bytes: int
    param_count: int
    flops: int
    ptl_bytecode_version: int | None
    export_time_s: float
    cache_key: str
    arch: str = V1_ARCH
    quantization: QuantizationInfo | None = None
    accuracy: AccuracyInfo | None = None
    data_file: str | None = None  # the shared .ptd holding its weights, relative to the manifest's folder
    data_keys: list[str] | None = None  # the keys it needs in data_file

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], schema_version: int = MANIFEST_SCHEMA_VERSION) -> ProgramEntry:
        if schema_version == 1 and isinstance(data, dict):
            data = {**data, "arch": V1_ARCH, "quantization": None, "accuracy": None}
        if schema_version in (1, 2) and isinstance(data, dict):
            data = {**data, "data_file": None, "data_keys": None}
        values = _record_fields(cls, data, "program entry")
        if values["role"] not in ROLES:
            raise ManifestError(f"program {values['id']!r} has role {values['role']!r}; "
                                f"expected one of {', '.join(ROLES)}")
        if values["format"] not in PROGRAM_FORMATS:
            raise ManifestError(f"program {values['id']!r} has format {values['format']!r}; expected pte or ptl")
        check_program_file_name(values["id"], values["file"])
        if values["data_file"] is not None:
            check_program_file_name(values["id"], values["data_file"])
            keys = values["data_keys"]
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                raise ManifestError(f"program {values['id']!r} names data file {values['data_file']!r} without a "
                                    "list of data_keys; re-export it")
        if values["reduction"] is not None:
            values["reduction"] = _build(ReductionInfo, values["reduction"], f"reduction of {values['id']}")
        if values["noise"] is not None:
            values["noise"] = _build(NoiseInfo, values["noise"], f"noise of {values['id']}")
        if values["quantization"] is not None:
            values["quantization"] = QuantizationInfo.from_json(values["quantization"],
                                                                f"quantization of {values['id']}")
        if values["accuracy"] is not None:
            values["accuracy"] = AccuracyInfo.from_json(values["accuracy"], f"accuracy of {values['id']}")
        return cls(**values)


@dataclass(frozen=True)
class Manifest:
    created_utc: str
    tools: dict[str, str]
    model: ModelInfo
    programs: list[ProgramEntry] = field(default_factory=list)
    schema: str = MANIFEST_SCHEMA
    schema_version: int = MANIFEST_SCHEMA_VERSION

    def program(self, program_id: str) -> ProgramEntry:
        """The entry with `program_id`; ManifestError listing the known ids otherwise."""
        for entry in self.programs:
            if entry.id == program_id:
                return entry
        known = ", ".join(entry.id for entry in self.programs)
        raise ManifestError(f"no program {program_id!r} in the manifest; known: {known}")

    def programs_with_role(self, *roles: str) -> list[ProgramEntry]:
        return [entry for entry in self.programs if entry.role in roles]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema, "schema_version": self.schema_version,
            "created_utc": self.created_utc, "tools": dict(self.tools), "model": asdict(self.model),
            "programs": [entry.to_json() for entry in self.programs],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if not isinstance(data, dict):
            raise ManifestError("a manifest must be a JSON object")
        schema, version = data.get("schema"), data.get("schema_version")
        if schema != MANIFEST_SCHEMA:
            raise ManifestError(f"schema is {schema!r}, expected {MANIFEST_SCHEMA!r}; "
                                "pass a manifest written by export")
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            understood = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
            raise ManifestError(f"schema_version {version!r} is not supported (this reader understands "
                                f"{understood}); re-export with this version of export")
        for key in ("created_utc", "tools", "model", "programs"):
            if key not in data:
                raise ManifestError(f"manifest lacks {key!r}; re-export it")
        programs = [ProgramEntry.from_json(entry, version) for entry in data["programs"]]
        ids = [entry.id for entry in programs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ManifestError(f"program ids listed twice: {', '.join(duplicates)}")
        check_distinct_base_names(programs)
        return cls(created_utc=data["created_utc"], tools=dict(data["tools"]),
                   model=_build(ModelInfo, data["model"], "model"), programs=programs,
                   schema=schema, schema_version=version)


def check_program_file_name(program_id: Any, file: Any) -> None:
    """ManifestError unless `file` is a plain relative path inside the manifest's folder that a device shell
    can hold: not absolute, no `..`, no empty part, no backslash, newline, NUL or other control character."""
    where = f"program {program_id!r}: file {file!r}"
    if not isinstance(file, str) or not file:
        raise ManifestError(f"{where} is not a file name; re-export the manifest")
    bad = sorted({f"U+{ord(c):04X}" for c in file if ord(c) < 0x20 or ord(c) == 0x7F or c == "\\"})
    if bad:
        raise ManifestError(f"{where} holds characters a device shell cannot take ({', '.join(bad)}); "
                            "rename the file and re-export the manifest")
    if file.startswith("/"):
        raise ManifestError(f"{where} is an absolute path; program files must lie in the manifest's folder: "
                            "re-export the manifest")
    parts = file.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ManifestError(f"{where} leaves the manifest's folder or has an empty part ('..', '.', '//'); "
                            "program files must lie in the manifest's folder: re-export the manifest")


def check_distinct_base_names(programs: list[ProgramEntry]) -> None:
    """ManifestError when two entries' files share a base name (they would be one file on the device)."""
    seen: dict[str, str] = {}
    for entry in programs:
        base = entry.file.rsplit("/", 1)[-1]
        if base in seen:
            raise ManifestError(f"program {entry.id!r}: file {entry.file!r} has the same base name as program "
                                f"{seen[base]!r}'s; they would overwrite each other on the device: re-export the manifest")
        seen[base] = entry.id


def _subject(data: Any, what: str) -> str:
    return f"{what} {data['id']!r}" if isinstance(data, dict) and "id" in data else what


def _record_fields(cls: type, data: Any, what: str) -> dict[str, Any]:
    return record_fields(cls, data, _subject(data, what), ManifestError, "re-export the manifest")


def _build(cls: type, data: Any, what: str):
    return cls(**_record_fields(cls, data, what))


def load_manifest(path: Path | str) -> Manifest:
    """Read and validate a manifest; ManifestError naming the file on any problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"manifest {path} does not exist; run `python -m export --out DIR` first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"manifest {path} is not readable JSON ({error}); re-export it") from error
    try:
        return Manifest.from_json(data)
    except ManifestError as error:
        raise ManifestError(f"manifest {path}: {error}") from error
    except (TypeError, ValueError) as error:
        raise ManifestError(f"manifest {path} has a malformed field ({error}); re-export it") from error


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest as indented JSON, atomically (temporary file renamed into place)."""
    write_json_atomically(path, manifest.to_json())


def program_file(manifest_path: Path | str, entry: ProgramEntry) -> Path:
    """Absolute path of an entry's program file (files are relative to the manifest's folder)."""
    return Path(manifest_path).resolve().parent / entry.file
