"""The export manifest, manifest.json (docs/formats.md, section 1): dataclasses, writer, validated reader.

Written by export/, read by bench/ (which programs to run) and by tests; analysis/ sees only the program
entries that bench/ copies into each results row. Version 2 adds, per program, `arch`, `quantization` and
`accuracy` (export/README.md). Version 1 manifests are still read: their programs read as `arch` vgg16, no
quantization, no accuracy figures. Version 3 adds `data_file` and `data_keys`: a program whose weights live in
a shared ExecuTorch data file (.ptd) beside it names that file and the keys it needs there (cloud remainders);
older manifests read with both null (every program self-contained). Version 4 lists the data files of the folder
(`data_files`: file, sha256, size_bytes, so that a sweep pushes and checks them like programs), which every
`data_file` of an entry must name, and gives the data file to fp32 XNNPACK device programs too (full model and
clients share one copy of their weights); older manifests read with no data files listed.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from formats.backends import PROGRAM_FORMATS
from formats.errors import ManifestError, UnsupportedSchema
from formats.json_file import write_json_atomically
from formats.schema import check_schema, record_fields

MANIFEST_SCHEMA = "splitbench.manifest"
MANIFEST_SCHEMA_VERSION = 4
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3, 4)
V1_ARCH = "vgg16"  # the only architecture a version 1 manifest can hold
ADDED_IN_V2 = ("arch", "quantization", "accuracy")
ADDED_IN_V3 = ("data_file", "data_keys")
ROLES = ("full", "client", "cloud")
MANIFEST_ADVICE = "pass a manifest written by export, or re-export it with this version of export"


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
class DataFileInfo:
    """A data file (.ptd) of the folder: weights that programs name by key; `file` relative to the folder."""

    file: str
    sha256: str
    size_bytes: int

    @classmethod
    def from_json(cls, data: Any) -> DataFileInfo:
        values = _record_fields(cls, data, "data file")
        check_program_file_name("data file", values["file"])
        if not isinstance(values["sha256"], str) or len(values["sha256"]) != 64 or \
                any(c not in "0123456789abcdef" for c in values["sha256"]):
            raise ManifestError(f"data file {values['file']!r}: sha256 is not 64 lower-case hex digits; "
                                "re-export the manifest")
        size = values["size_bytes"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ManifestError(f"data file {values['file']!r}: size_bytes is not a count; re-export the manifest")
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
        check_entry_types(values)
        if values["role"] not in ROLES:
            raise ManifestError(f"program {values['id']!r} has role {values['role']!r}; "
                                f"expected one of {', '.join(ROLES)}")
        if values["format"] not in PROGRAM_FORMATS:
            raise ManifestError(f"program {values['id']!r} has format {values['format']!r}; "
                                f"expected one of {', '.join(PROGRAM_FORMATS)}")
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
    data_files: list[DataFileInfo] = field(default_factory=list)

    def data_file(self, name: str) -> DataFileInfo | None:
        """The listed data file `name` (None for one a manifest before version 4 names without listing it)."""
        return next((info for info in self.data_files if info.file == name), None)

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
            "data_files": [asdict(info) for info in self.data_files],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "manifest") -> Manifest:
        """The manifest of a JSON document, checked (formats.schema); ManifestError starting with `where`."""
        try:
            version = check_schema(data, MANIFEST_SCHEMA, SUPPORTED_SCHEMA_VERSIONS, where, advice=MANIFEST_ADVICE)
        except UnsupportedSchema as error:
            raise ManifestError(str(error)) from None
        schema = data["schema"]
        for key in ("created_utc", "tools", "model", "programs"):
            if key not in data:
                raise ManifestError(f"manifest lacks {key!r}; re-export it")
        if not isinstance(data["programs"], list):
            raise ManifestError(f"'programs' is a {json_type_name(data['programs'])}, not a list of program entries: "
                                "the manifest's structure is wrong; re-export it")
        programs = [ProgramEntry.from_json(entry, version) for entry in data["programs"]]
        ids = [entry.id for entry in programs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ManifestError(f"program ids listed twice: {', '.join(duplicates)}")
        data_files = read_data_files(data, version)
        check_data_files_listed(programs, data_files, version)
        check_distinct_base_names(programs, data_files)
        return cls(created_utc=data["created_utc"], tools=dict(data["tools"]),
                   model=_build(ModelInfo, data["model"], "model"), programs=programs,
                   schema=schema, schema_version=version, data_files=data_files)


def read_data_files(data: dict[str, Any], version: int) -> list[DataFileInfo]:
    """The `data_files` of a version 4 manifest (none before)."""
    if version < 4:
        return []
    if "data_files" not in data:
        raise ManifestError("manifest lacks 'data_files'; re-export it")
    if not isinstance(data["data_files"], list):
        raise ManifestError(f"'data_files' is a {json_type_name(data['data_files'])}, not a list: the manifest's "
                            "structure is wrong; re-export it")
    files = [DataFileInfo.from_json(item) for item in data["data_files"]]
    names = [info.file for info in files]
    if len(set(names)) != len(names):
        raise ManifestError(f"data files listed twice: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    return files


def check_data_files_listed(programs: list[ProgramEntry], data_files: list[DataFileInfo], version: int) -> None:
    """From version 4 on, every data file a program names is listed in `data_files`."""
    if version < 4:
        return
    listed = {info.file for info in data_files}
    for entry in programs:
        if entry.data_file is not None and entry.data_file not in listed:
            raise ManifestError(f"program {entry.id!r} names data file {entry.data_file!r}, which 'data_files' "
                                "does not list; re-export the manifest")


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
    if len(file.encode("utf-8", "surrogatepass")) > MAX_FILE_PATH_BYTES or \
            any(len(part.encode("utf-8", "surrogatepass")) > MAX_FILE_NAME_BYTES for part in parts):
        raise ManifestError(f"program {program_id!r}: file name longer than a file system takes "
                            f"({MAX_FILE_NAME_BYTES} bytes a name, {MAX_FILE_PATH_BYTES} a path); re-export the manifest")


MAX_FILE_NAME_BYTES = 255
MAX_FILE_PATH_BYTES = 1024
MAX_SHAPE_DIMENSIONS = 8
ENTRY_TEXT_FIELDS = ("id", "configuration", "role", "format", "backend", "dtype", "sha256", "input_dtype",
                     "output_dtype", "cache_key", "arch")
ENTRY_COUNT_FIELDS = ("size_bytes", "output_size_bytes", "param_count", "flops")


def check_entry_types(values: dict[str, Any]) -> None:
    """ManifestError naming the first field of a program entry whose value is not of the type export writes."""
    program_id = values["id"] if isinstance(values.get("id"), str) else "?"

    def wrong(name: str, expected: str) -> ManifestError:
        text = repr(values[name]) if len(repr(values[name])) <= 60 else repr(values[name])[:57] + "..."
        return ManifestError(f"program {program_id!r}: {name} is {text}, not {expected}; re-export the manifest")

    for name in ENTRY_TEXT_FIELDS:
        if not isinstance(values[name], str):
            raise wrong(name, "text")
    for name in ENTRY_COUNT_FIELDS:
        if isinstance(values[name], bool) or not isinstance(values[name], int) or values[name] < 0:
            raise wrong(name, "a count (an integer, 0 or more)")
    for name in ("input_shape", "output_shape"):
        shape = values[name]
        if not isinstance(shape, list) or len(shape) > MAX_SHAPE_DIMENSIONS or not all(
                isinstance(size, int) and not isinstance(size, bool) and 0 < size < 2**31 for size in shape):
            raise wrong(name, f"a shape (a list of at most {MAX_SHAPE_DIMENSIONS} positive integers)")
    if values["split_point"] is not None and not isinstance(values["split_point"], str):
        raise wrong("split_point", "text or null")
    version = values["ptl_bytecode_version"]
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise wrong("ptl_bytecode_version", "an integer or null")
    seconds = values["export_time_s"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise wrong("export_time_s", "a number")


def check_distinct_base_names(programs: list[ProgramEntry], data_files: Sequence[DataFileInfo] = ()) -> None:
    """ManifestError when two files (programs' or data files') share a base name (they would be one file on the
    device)."""
    seen: dict[str, str] = {}
    named = [(f"program {entry.id!r}", entry.file) for entry in programs]
    named += [(f"data file {info.file!r}", info.file) for info in data_files]
    for owner, file in named:
        base = file.rsplit("/", 1)[-1]
        if base in seen:
            raise ManifestError(f"{owner}: file {file!r} has the same base name as {seen[base]}'s; they would "
                                "overwrite each other on the device: re-export the manifest")
        seen[base] = owner


def json_type_name(value: Any) -> str:
    """What a JSON value is, in JSON's own words (for error messages)."""
    names = {dict: "JSON object", list: "JSON array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


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
    where = f"manifest {path}"
    try:
        return Manifest.from_json(data, where)
    except ManifestError as error:
        message = str(error)
        raise ManifestError(message if message.startswith(where) else f"{where}: {message}") from error
    except (TypeError, ValueError) as error:
        raise ManifestError(f"manifest {path} has a malformed field ({error}); re-export it") from error


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest as indented JSON, atomically (temporary file renamed into place)."""
    write_json_atomically(path, manifest.to_json())


def program_file(manifest_path: Path | str, entry: ProgramEntry) -> Path:
    """Absolute path of an entry's program file (files are relative to the manifest's folder)."""
    return Path(manifest_path).resolve().parent / entry.file
