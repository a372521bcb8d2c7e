"""The export stage end to end: model, reductions, programs (reused when unchanged), manifest."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from torch import nn

from export.cache import program_cache_key, reusable_entry
from export.config import ExportConfig
from export.costs import dtype_name, measure_costs
from export.errors import OutputNotWritable
from formats.errors import ManifestError
from export.events import PROGRAM_EXPORTED, PROGRAM_REUSED, EventSink, ExportEvent, ignore_event
from export.executorch_writer import write_pte
from export.lite_writer import write_ptl
from formats.manifest import Manifest, ModelInfo, ProgramEntry, load_manifest, write_manifest
from export.models import ModelShape, file_sha256, load_weights, seeded_vgg16
from export.programs import ProgramSpec, plan_programs
from export.reduction_setup import prepare_reductions
from export.tool_versions import tool_versions

MANIFEST_NAME = "manifest.json"


def run_export(config: ExportConfig, on_event: EventSink = ignore_event) -> Manifest:
    """Write every program of `config` into `config.out_dir` with its manifest; return the manifest.

    Programs whose cache key and file are unchanged since the last run are kept as they are.
    """
    out_dir = prepare_output_dir(config.out_dir)
    tools = tool_versions()
    shape = ModelShape(config.num_classes, config.input_size, config.width_divisor)
    model, weights_id = build_model(config, shape)
    model_id = f"vgg16:classes={shape.num_classes}:size={shape.input_size}:divisor={shape.width_divisor}"
    reduced = prepare_reductions(config, model, weights_id, model_id, out_dir, on_event)
    previous = previous_entries(out_dir / MANIFEST_NAME)
    model_info = ModelInfo("vgg16", config.num_classes, config.input_size, config.width_divisor, weights_id)
    manifest = Manifest(created_utc=utc_now(), tools=tools, model=model_info, programs=[])
    entries: list[ProgramEntry] = []
    for spec in plan_programs(config, model, reduced):
        key = program_cache_key(program_id=spec.program_id, configuration=spec.configuration, role=spec.role,
                                split_point=spec.split_point, backend=spec.backend, weights_id=weights_id,
                                model_id=model_id, projection_key=spec.projection_key,
                                noise_variance=spec.noise.variance if spec.noise else None, tools=tools)
        entries.append(reuse_or_export(spec, previous.get(spec.program_id), key, out_dir, on_event))
        manifest = replace(manifest, programs=list(entries))
        write_manifest(out_dir / MANIFEST_NAME, manifest)  # after every program, so an interrupted run keeps them
    write_manifest(out_dir / MANIFEST_NAME, manifest)
    return manifest


def reuse_or_export(spec: ProgramSpec, previous: ProgramEntry | None, cache_key: str, out_dir: Path,
                    on_event: EventSink) -> ProgramEntry:
    """The previous entry if its key and file are unchanged, else a freshly exported program's entry."""
    entry = reusable_entry(previous, cache_key, out_dir)
    if entry is not None:
        on_event(ExportEvent(PROGRAM_REUSED, spec.program_id, entry.file))
        return entry
    entry = export_program(spec, out_dir, cache_key)
    on_event(ExportEvent(PROGRAM_EXPORTED, spec.program_id, f"{entry.size_bytes} bytes in {entry.export_time_s:.1f} s"))
    return entry


def build_model(config: ExportConfig, shape: ModelShape) -> tuple[nn.Module, str]:
    """The VGG-16 and the identity of its weights (`seed:<n>` or `sha256:<hash of the weights file>`)."""
    model = seeded_vgg16(shape, config.seed)
    if config.weights_path is None:
        return model, f"seed:{config.seed}"
    load_weights(model, config.weights_path)
    return model, f"sha256:{file_sha256(config.weights_path)}"


def export_program(spec: ProgramSpec, out_dir: Path, cache_key: str) -> ProgramEntry:
    """Write one program file and describe it."""
    path = out_dir / spec.file_name
    started = time.perf_counter()
    if spec.backend == "lite":
        bytecode_version = write_ptl(spec.module, spec.example_input, path)
    else:
        write_pte(spec.module, spec.example_input, path, spec.backend)
        bytecode_version = None
    export_time_s = time.perf_counter() - started
    costs = measure_costs(spec.module, spec.example_input)
    return ProgramEntry(
        id=spec.program_id, configuration=spec.configuration, role=spec.role, split_point=spec.split_point,
        reduction=spec.reduction, noise=spec.noise, format=spec.format, backend=spec.backend, dtype="float32",
        file=spec.file_name, sha256=file_sha256(path), size_bytes=path.stat().st_size,
        input_shape=list(spec.example_input.shape), input_dtype=dtype_name(spec.example_input.dtype),
        output_shape=costs.output_shape, output_dtype=costs.output_dtype, output_size_bytes=costs.output_size_bytes,
        param_count=costs.param_count, flops=costs.flops, ptl_bytecode_version=bytecode_version,
        export_time_s=round(export_time_s, 3), cache_key=cache_key,
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
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
