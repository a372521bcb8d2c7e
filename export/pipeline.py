"""The export stage end to end: model, reductions, programs (reused when unchanged), manifest."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from torch import nn

from export.cache import ProgramStore, program_cache_key, reusable_entry
from export.config import INT8_BACKENDS, ExportConfig
from export.costs import dtype_name, measure_costs
from export.errors import OutputNotWritable
from export.events import PROGRAM_DELEGATION, PROGRAM_EXPORTED, PROGRAM_REUSED, EventSink, ExportEvent, ignore_event
from export.int8_writer import quantization_key
from export.model_source import load_source_model
from export.parallel import ExportResult, export_workers, run_jobs
from export.programs import ProgramSpec, plan_programs
from export.reduction_setup import load_calibration, load_heldout, prepare_reductions
from export.shared_weights import (
    DATA_FILE,
    FolderWeights,
    model_storage_ids,
    write_pte_with_external_weights,
)
from export.tool_versions import tool_versions
from export.writers import ExportContext, WrittenProgram, writer_for
from formats.backends import backend as backend_row
from formats.errors import ManifestError
from formats.file_hash import file_sha256
from formats.manifest import DataFileInfo, Manifest, ModelInfo, ProgramEntry, load_manifest, write_manifest

MANIFEST_NAME = "manifest.json"


def run_export(config: ExportConfig, on_event: EventSink = ignore_event, keep_other_data: bool = False) -> Manifest:
    """Write every program of `config` into `config.out_dir` with its manifest; return the manifest.

    Programs whose cache key and file are unchanged since the last run are kept as they are; with
    `config.program_store`, a program another folder exported with the same cache key is hard-linked from the
    store instead of exported again. The programs left to export are exported by `config.workers` processes
    (export.parallel). Programs whose backend can (fp32 xnnpack: cloud remainders, and full and client programs unless
    `config.device_weights` is "embedded") keep their weights in the folder's shared data file
    (export.shared_weights), which the manifest lists with its sha256. `keep_other_data`: keep in that file the weights of remainders of the previous
    manifest that this configuration does not list (a study exporting one folder in several parts).
    """
    out_dir = prepare_output_dir(config.out_dir)
    tools = tool_versions()
    source, config = load_source_model(config)
    weights_id, model_id, arch = source.weights_id, source.model_id, source.label
    calibration = load_calibration(config) if config.include_reduced or config.quantizes() else None
    heldout = load_heldout(config) if config.quantizes() else None
    context = ExportContext(arch, weights_id, calibration if config.quantizes() else None, heldout,
                            model_storage_ids(source.model))
    store = ProgramStore(config.program_store) if config.program_store is not None else None
    reduced = prepare_reductions(config, source.graph, weights_id, model_id, out_dir, on_event, calibration, store)
    previous_manifest = read_previous_manifest(out_dir / MANIFEST_NAME)
    previous = {entry.id: entry for entry in previous_manifest.programs} if previous_manifest else {}
    assert config.num_classes is not None, "load_source_model sets it from the model's output"
    model_info = ModelInfo(arch, config.num_classes, config.input_size, config.width_divisor, weights_id)
    manifest = Manifest(created_utc=utc_now(), tools=tools, model=model_info, programs=[])
    specs = plan_programs(config, source.model, reduced, source.graph)
    keys = [program_cache_key(program_id=spec.program_id, configuration=spec.configuration, role=spec.role,
                              split_point=spec.split_point, backend=spec.backend, arch=arch,
                              weights_id=weights_id,
                              model_id=model_id, projection_key=spec.projection_key,
                              noise_variance=spec.noise.variance if spec.noise else None, tools=tools,
                              quantization=quantization_key(calibration, heldout)
                              if spec.backend in INT8_BACKENDS else None,
                              storage="shared_model_weights" if shares_weights(spec, config) else None)
            for spec in specs]
    data_path = out_dir / DATA_FILE
    sharing = [shares_weights(spec, config) for spec in specs]
    weights = FolderWeights(data_path)
    data_keys = weights.on_disk
    done: dict[int, ProgramEntry] = {}
    pending: list[int] = []
    for index, spec in enumerate(specs):
        entry, stored_data = reusable(previous.get(spec.program_id), keys[index], out_dir, data_keys, store)
        if entry is None:
            pending.append(index)
            continue
        on_event(ExportEvent(PROGRAM_REUSED, spec.program_id, entry.file))
        done[index] = entry
        if stored_data is not None:
            weights.add_stored(stored_data, entry.data_keys or ())
    other_data = {key for entry in previous.values() if entry.id not in {spec.program_id for spec in specs}
                  for key in (entry.data_keys or [])} if keep_other_data else set()
    on_disk = listed_data_file(data_path, previous_manifest) if any(sharing) else None  # rewritten at the end only

    def current_manifest(listed: DataFileInfo | None = on_disk, present: set[str] = data_keys) -> Manifest:
        """The programs so far; those whose weights are not in the data file `listed` (holding the keys `present`)
        are left out (an interrupted run exports them again)."""
        programs = [done[index] for index in sorted(done)
                    if done[index].data_file is None or set(done[index].data_keys or ()) <= present]
        return replace(manifest, programs=programs, data_files=[listed] if listed is not None else [])

    def export_job(index: int) -> ExportResult:
        spec, events = specs[index], list[ExportEvent]()
        part = out_dir / f"{spec.program_id}.ptd.part" if sharing[index] else None
        entry = export_program(spec, context, out_dir, keys[index], events.append, part)
        return ExportResult(index, entry, part if part is not None and part.is_file() else None, events)

    largest_first = sorted(pending, key=lambda index: -parameter_count(specs[index].module))
    workers = export_workers(config.workers, source.model, len(pending))
    for result in run_jobs(export_job, largest_first, workers):
        for event in result.events:
            on_event(event)
        if result.data_part is not None:
            weights.add_part(result.data_part)
            result.data_part.unlink()
        done[result.index] = result.entry
        on_event(ExportEvent(PROGRAM_EXPORTED, result.entry.id,
                             f"{result.entry.size_bytes} bytes in {result.entry.export_time_s:.1f} s"))
        write_manifest(out_dir / MANIFEST_NAME, current_manifest())  # after every program: an interrupted run
        # keeps them (programs whose weights are not yet in the data file are exported again)
    final_keys = other_data | referenced_keys(done.values())
    linked = weights.finish(final_keys)
    if linked is not None:  # a stored data file, named by its verified sha256
        listed: DataFileInfo | None = DataFileInfo(data_path.name, linked.stem, data_path.stat().st_size)
    else:
        unchanged = on_disk is not None and final_keys == data_keys
        listed = on_disk if unchanged else data_file_info(data_path)
    if store is not None and listed is not None:
        store.share_data_file(data_path, listed)
    manifest = current_manifest(listed, final_keys)
    if store is not None:
        for entry in manifest.programs:
            store.add(entry, out_dir, manifest)
        store.prune()
    write_manifest(out_dir / MANIFEST_NAME, manifest)
    return manifest


def parameter_count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def shares_weights(spec: ProgramSpec, config: ExportConfig) -> bool:
    """Whether `spec` keeps its weights in the folder's shared data file: its backend can (formats.backends'
    external_weights), and it is a cloud remainder or the configuration shares the device programs' weights."""
    return backend_row(spec.backend).external_weights and (spec.role == "cloud" or config.device_weights == "shared")


def data_file_info(data_path: Path) -> DataFileInfo | None:
    """The manifest's description of the data file on disk (None when there is none)."""
    if not data_path.is_file():
        return None
    return DataFileInfo(data_path.name, file_sha256(data_path), data_path.stat().st_size)


def referenced_keys(entries) -> set[str]:
    return {key for entry in entries for key in (entry.data_keys or [])}


def reusable(previous: ProgramEntry | None, cache_key: str, out_dir: Path, data_keys: set[str],
             store: ProgramStore | None) -> tuple[ProgramEntry | None, Path | None]:
    """(entry, None) for the previous entry if its key and file are unchanged (and its weights are in this
    folder's data file); else (entry, the stored data file holding its weights, or None when they are inside it)
    for the store's program with the same key, linked into the folder; else (None, None): to export."""
    entry = reusable_entry(previous, cache_key, out_dir)
    if entry is not None and (entry.data_file is None or (
            entry.data_file == DATA_FILE and entry.data_keys and set(entry.data_keys) <= data_keys)):
        return entry, None
    stored = store.lookup(cache_key) if store is not None else None
    if stored is None or stored.entry.data_file not in (None, DATA_FILE):
        return None, None
    assert store is not None
    store.link_into(stored.entry, out_dir)
    return stored.entry, stored.data_path


def export_program(spec: ProgramSpec, context: ExportContext, out_dir: Path, cache_key: str,
                   on_event: EventSink = ignore_event, data_part: Path | None = None) -> ProgramEntry:
    """Write one program file and describe it (int8 programs with their quantization and accuracy figures).

    With `data_part` (see shares_weights), its weights go to that data file instead, to be merged into the folder's
    shared data file (the entry names no data file when the program kept every weight inside)."""
    path = out_dir / spec.file_name
    started = time.perf_counter()
    data_keys = None
    if data_part is not None:
        data_keys = write_pte_with_external_weights(spec.module, spec.example_input, path, data_part,
                                                    context.model_storages)
        written = WrittenProgram()
    else:
        written = writer_for(spec.backend)(spec, context, path)
    if written.delegation is not None:
        on_event(ExportEvent(PROGRAM_DELEGATION, spec.program_id, written.delegation))
    export_time_s = time.perf_counter() - started
    costs = measure_costs(spec.module, spec.example_input)
    return ProgramEntry(
        id=spec.program_id, configuration=spec.configuration, role=spec.role, split_point=spec.split_point,
        reduction=spec.reduction, noise=spec.noise, format=spec.format, backend=spec.backend,
        dtype=spec.dtype,
        file=spec.file_name, sha256=file_sha256(path), size_bytes=path.stat().st_size,
        input_shape=list(spec.example_input.shape), input_dtype=dtype_name(spec.example_input.dtype),
        output_shape=costs.output_shape, output_dtype=costs.output_dtype, output_size_bytes=costs.output_size_bytes,
        param_count=costs.param_count, flops=costs.flops, ptl_bytecode_version=written.ptl_bytecode_version,
        export_time_s=round(export_time_s, 3), cache_key=cache_key, arch=context.arch,
        quantization=written.quantization, accuracy=written.accuracy,
        data_file=DATA_FILE if data_keys else None, data_keys=data_keys or None,
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


def read_previous_manifest(manifest_path: Path) -> Manifest | None:
    """The earlier manifest in the output folder (None if it is absent or unreadable)."""
    if not manifest_path.is_file():
        return None
    try:
        return load_manifest(manifest_path)
    except ManifestError:
        return None


def listed_data_file(data_path: Path, previous: Manifest | None) -> DataFileInfo | None:
    """The data file on disk as the earlier manifest lists it when it has its size and was not written after the
    manifest, else hashed anew (None when there is no data file): hashing VGG-16's takes 1.5 s."""
    if not data_path.is_file():
        return None
    known = previous.data_file(data_path.name) if previous is not None else None
    status, manifest_path = data_path.stat(), data_path.parent / MANIFEST_NAME
    if known is not None and known.size_bytes == status.st_size and manifest_path.is_file() \
            and status.st_mtime_ns <= manifest_path.stat().st_mtime_ns:
        return known
    return data_file_info(data_path)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
