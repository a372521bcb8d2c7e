"""The export stage end to end: model, reductions, programs (reused when unchanged), manifest."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from export.cache import program_cache_key, reusable_entry
from export.calibration import CalibrationSet
from export.config import INT8_BACKENDS, ExportConfig
from export.costs import dtype_name, measure_costs
from export.errors import OutputNotWritable
from export.events import PROGRAM_DELEGATION, PROGRAM_EXPORTED, PROGRAM_REUSED, EventSink, ExportEvent, ignore_event
from export.executorch_writer import write_pte
from export.int8_writer import quantization_key, write_int8_pte
from export.lite_writer import write_ptl
from export.model_source import load_source_model
from export.models import file_sha256
from export.programs import ProgramSpec, plan_programs
from export.reduction_setup import load_calibration, load_heldout, prepare_reductions
from export.tool_versions import tool_versions
from formats.errors import ManifestError
from formats.manifest import Manifest, ModelInfo, ProgramEntry, load_manifest, write_manifest

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ExportContext:
    """What every program of one run shares: the architecture, the weights' identity, and the images int8
    programs are calibrated (`calibration`) and measured (`heldout`) on (None when no program is int8)."""

    arch: str
    weights_id: str
    calibration: CalibrationSet | None
    heldout: CalibrationSet | None


def run_export(config: ExportConfig, on_event: EventSink = ignore_event) -> Manifest:
    """Write every program of `config` into `config.out_dir` with its manifest; return the manifest.

    Programs whose cache key and file are unchanged since the last run are kept as they are.
    """
    out_dir = prepare_output_dir(config.out_dir)
    tools = tool_versions()
    source, config = load_source_model(config)
    weights_id, model_id, arch = source.weights_id, source.model_id, source.label
    calibration = load_calibration(config) if config.include_reduced or config.quantizes() else None
    heldout = load_heldout(config) if config.quantizes() else None
    context = ExportContext(arch, weights_id, calibration if config.quantizes() else None, heldout)
    reduced = prepare_reductions(config, source.graph, weights_id, model_id, out_dir, on_event, calibration)
    previous = previous_entries(out_dir / MANIFEST_NAME)
    model_info = ModelInfo(arch, config.num_classes, config.input_size, config.width_divisor, weights_id)
    manifest = Manifest(created_utc=utc_now(), tools=tools, model=model_info, programs=[])
    entries: list[ProgramEntry] = []
    for spec in plan_programs(config, source.model, reduced, source.graph):
        key = program_cache_key(program_id=spec.program_id, configuration=spec.configuration, role=spec.role,
                                split_point=spec.split_point, backend=spec.backend, arch=arch,
                                weights_id=weights_id,
                                model_id=model_id, projection_key=spec.projection_key,
                                noise_variance=spec.noise.variance if spec.noise else None, tools=tools,
                                quantization=quantization_key(calibration, heldout)
                                if spec.backend in INT8_BACKENDS else None)
        entries.append(reuse_or_export(spec, context, previous.get(spec.program_id), key, out_dir, on_event))
        manifest = replace(manifest, programs=list(entries))
        write_manifest(out_dir / MANIFEST_NAME, manifest)  # after every program, so an interrupted run keeps them
    write_manifest(out_dir / MANIFEST_NAME, manifest)
    return manifest


def reuse_or_export(spec: ProgramSpec, context: ExportContext, previous: ProgramEntry | None, cache_key: str,
                    out_dir: Path, on_event: EventSink) -> ProgramEntry:
    """The previous entry if its key and file are unchanged, else a freshly exported program's entry."""
    entry = reusable_entry(previous, cache_key, out_dir)
    if entry is not None:
        on_event(ExportEvent(PROGRAM_REUSED, spec.program_id, entry.file))
        return entry
    entry = export_program(spec, context, out_dir, cache_key, on_event)
    on_event(ExportEvent(PROGRAM_EXPORTED, spec.program_id, f"{entry.size_bytes} bytes in {entry.export_time_s:.1f} s"))
    return entry


def export_program(spec: ProgramSpec, context: ExportContext, out_dir: Path, cache_key: str,
                   on_event: EventSink = ignore_event) -> ProgramEntry:
    """Write one program file and describe it (int8 programs with their quantization and accuracy figures)."""
    path = out_dir / spec.file_name
    started = time.perf_counter()
    bytecode_version, int8 = None, None
    if spec.backend == "lite":
        bytecode_version = write_ptl(spec.module, spec.example_input, path)
    elif spec.backend in INT8_BACKENDS:
        int8 = write_int8_pte(spec, path, context.calibration, context.heldout, context.weights_id)
        on_event(ExportEvent(PROGRAM_DELEGATION, spec.program_id, int8.delegation))
    else:
        write_pte(spec.module, spec.example_input, path, spec.backend)
    export_time_s = time.perf_counter() - started
    costs = measure_costs(spec.module, spec.example_input)
    return ProgramEntry(
        id=spec.program_id, configuration=spec.configuration, role=spec.role, split_point=spec.split_point,
        reduction=spec.reduction, noise=spec.noise, format=spec.format, backend=spec.backend,
        dtype="int8" if int8 else "float32",
        file=spec.file_name, sha256=file_sha256(path), size_bytes=path.stat().st_size,
        input_shape=list(spec.example_input.shape), input_dtype=dtype_name(spec.example_input.dtype),
        output_shape=costs.output_shape, output_dtype=costs.output_dtype, output_size_bytes=costs.output_size_bytes,
        param_count=costs.param_count, flops=costs.flops, ptl_bytecode_version=bytecode_version,
        export_time_s=round(export_time_s, 3), cache_key=cache_key, arch=context.arch,
        quantization=int8.quantization if int8 else None, accuracy=int8.accuracy if int8 else None,
    )


def prepare_output_dir(out_dir: Path) -> Path:
    """Create the output folder and prove it is writable; OutputNotWritable otherwise."""
    probe = out_dir / ".write_probe"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputNotWritable(f"output folder {out_dir} is not writable ({error.strerror or error}); "
                                "pass --out with a folder you can write to") from error
    return out_dir


def previous_entries(manifest_path: Path) -> dict[str, ProgramEntry]:
    """Entries of an earlier manifest in the output folder (none if it is absent or unreadable)."""
    if not manifest_path.is_file():
        return {}
    try:
        return {entry.id: entry for entry in load_manifest(manifest_path).programs}
    except ManifestError:
        return {}


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
