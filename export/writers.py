"""The program writers, keyed by the writer names of formats.backends' table: the export picks a program's writer
by its backend's row, never by the backend's name.

Every writer takes the program to write, what the run shares (ExportContext) and the path, writes
the file atomically and says what the manifest entry needs beyond the file itself (WrittenProgram).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from export.calibration import CalibrationSet
from export.errors import ConfigError
from export.executorch_writer import write_pte
from export.int8_writer import write_int8_pte
from export.lite_writer import write_ptl
from export.programs import ProgramSpec
from formats.backends import BACKEND_TABLE, backend
from formats.manifest import AccuracyInfo, QuantizationInfo


@dataclass(frozen=True)
class ExportContext:
    """What every program of one run shares: the architecture, the weights' identity, the images int8
    programs are calibrated (`calibration`) and measured (`heldout`) on (None when no program is int8), and the
    storages of the source model's tensors (`model_storages`: which weights go to the shared data file,
    export.shared_weights.tag_constants; None: every weight of a program that shares)."""

    arch: str
    weights_id: str
    calibration: CalibrationSet | None
    heldout: CalibrationSet | None
    model_storages: frozenset[int] | None = None


@dataclass(frozen=True)
class WrittenProgram:
    """What a writer learnt while writing: the .ptl bytecode version, an int8 program's quantization and accuracy
    figures, and the delegation summary the export reports as an event (None: nothing to report)."""

    ptl_bytecode_version: int | None = None
    quantization: QuantizationInfo | None = None
    accuracy: AccuracyInfo | None = None
    delegation: str | None = None


ProgramWriter = Callable[[ProgramSpec, ExportContext, Path], WrittenProgram]


def write_executorch(spec: ProgramSpec, context: ExportContext, path: Path) -> WrittenProgram:
    write_pte(spec.module, spec.example_input, path, spec.backend)
    return WrittenProgram()


def write_executorch_int8(spec: ProgramSpec, context: ExportContext, path: Path) -> WrittenProgram:
    int8 = write_int8_pte(spec, path, context.calibration, context.heldout, context.weights_id)
    return WrittenProgram(quantization=int8.quantization, accuracy=int8.accuracy, delegation=int8.delegation)


def write_torchscript_lite(spec: ProgramSpec, context: ExportContext, path: Path) -> WrittenProgram:
    return WrittenProgram(ptl_bytecode_version=write_ptl(spec.module, spec.example_input, path))


WRITERS: dict[str, ProgramWriter] = {
    "executorch": write_executorch,
    "executorch_int8": write_executorch_int8,
    "torchscript_lite": write_torchscript_lite,
}
_missing = sorted({row.writer for row in BACKEND_TABLE} - set(WRITERS))
if _missing:
    raise AssertionError(f"formats.backends names writers export.writers lacks: {', '.join(_missing)}")


def writer_for(backend_name: str) -> ProgramWriter:
    """The writer of `backend_name`'s programs; ConfigError for a backend the table does not declare."""
    if backend_name not in {row.name for row in BACKEND_TABLE}:
        raise ConfigError(f"unknown backend {backend_name!r}; valid backends: "
                          f"{', '.join(row.name for row in BACKEND_TABLE)}")
    return WRITERS[backend(backend_name).writer]
