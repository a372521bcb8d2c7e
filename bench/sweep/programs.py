"""The programs a sweep runs: read from the export manifest, filtered, in the paper's order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from formats.backends import Runtime, runtime_of_format
from formats.errors import ManifestError
from formats.file_hash import file_sha256
from formats.manifest import DataFileInfo, Manifest, ProgramEntry, load_manifest
from formats.paper import backend_sort_key, configuration_sort_key

SWEPT_ROLES = ("full", "client")


@dataclass(frozen=True)
class Program:
    """One program of the manifest (its formats.manifest entry), with its file on this host, and the manifest's
    description of its data file (`data`, when its weights are in one the manifest lists; manifests from version 4)."""

    entry: ProgramEntry
    local_path: Path
    data: DataFileInfo | None = None

    @property
    def data_local_path(self) -> Path | None:
        """The data file (.ptd) holding this program's weights on this host, or None when they are inside it."""
        data_file = self.entry.data_file
        return self.local_path.parent / data_file if data_file else None

    @property
    def program_id(self) -> str:
        return self.entry.id

    @property
    def configuration(self) -> str:
        return self.entry.configuration

    @property
    def role(self) -> str:
        return self.entry.role

    @property
    def format(self) -> str:
        return self.entry.format

    @property
    def backend(self) -> str:
        return self.entry.backend

    @property
    def sha256(self) -> str:
        return self.entry.sha256

    @property
    def size_bytes(self) -> int:
        return int(self.entry.size_bytes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(size) for size in self.entry.input_shape)

    @property
    def manifest_entry(self) -> dict:
        """The entry as the manifest holds it (rows carry it)."""
        return self.entry.to_json()

    @property
    def device_file_name(self) -> str:
        return self.local_path.name

    @property
    def work(self) -> int:
        """What the time of a launch scales with: the manifest's FLOPs, else the file size."""
        flops = self.entry.flops
        return int(flops) if isinstance(flops, (int, float)) and flops > 0 else self.size_bytes

    @property
    def runtime(self) -> Runtime:
        """The runtime that loads this program's format (formats.backends): it picks the runner build."""
        return runtime_of_format(self.format)


@dataclass(frozen=True)
class LoadedManifest:
    """A manifest file as read: its path, sha256, JSON document and (parsed from it) its formats.manifest form."""

    path: Path
    sha256: str
    data: dict

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest.from_json(self.data)


def load_manifest_file(path: Path) -> LoadedManifest:
    """Read the manifest and validate it with its reader (docs/formats.md section 1), with its sha256."""
    path = Path(path)
    manifest = load_manifest(path)
    raw = path.read_bytes()
    loaded = LoadedManifest(path=path, sha256=hashlib.sha256(raw).hexdigest(), data=json.loads(raw))
    loaded.__dict__["manifest"] = manifest  # the reader's own result: not parsed twice
    return loaded


def program_from_entry(entry: ProgramEntry | dict, manifest_folder: Path, manifest: Manifest | None = None) -> Program:
    """The program of a manifest entry (a JSON entry of the current manifest version is read by its reader), with
    its data file as `manifest` lists it."""
    if isinstance(entry, dict):
        entry = ProgramEntry.from_json(entry)
    data = manifest.data_file(entry.data_file) if manifest is not None and entry.data_file else None
    return Program(entry=entry, local_path=manifest_folder / entry.file, data=data)


def paper_order_key(program: Program) -> tuple:
    return configuration_sort_key(program.configuration) + backend_sort_key(program.backend) + (program.program_id,)


def _filtered(programs: list[Program], wanted: Sequence[str] | None, attribute: str, option: str) -> list[Program]:
    if not wanted:
        return programs
    known = {getattr(p, attribute) for p in programs}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ManifestError(f"{option} names {','.join(unknown)}, not among the selected programs; "
                            f"choose from {','.join(sorted(known))}")
    return [p for p in programs if getattr(p, attribute) in wanted]


def select_programs(manifest: LoadedManifest, configurations: Sequence[str] | None = None,
                    backends: Sequence[str] | None = None, formats: Sequence[str] | None = None) -> list[Program]:
    """Full and client programs, filtered by configuration id, backend (xnnpack, lite, ...) and file format
    (pte, ptl), in paper order.

    Raises ManifestError if a filter names nothing in the manifest or nothing is left,
    and if a selected program's file is missing.
    """
    folder = manifest.path.parent
    programs = [program_from_entry(entry, folder, manifest.manifest) for entry in manifest.manifest.programs]
    swept = [p for p in programs if p.role in SWEPT_ROLES]
    if configurations:
        known = {p.configuration for p in swept}
        unknown = [c for c in configurations if c not in known]
        if unknown:
            raise ManifestError(f"--configs names {','.join(unknown)}, not in {manifest.path}; "
                                f"choose from {','.join(sorted(known))}")
        swept = [p for p in swept if p.configuration in configurations]
    swept = _filtered(swept, backends, "backend", "--backends")
    swept = _filtered(swept, formats, "format", "--formats")
    if not swept:
        raise ManifestError(f"no full or client program selected from {manifest.path}; loosen --configs/--backends/--formats")
    for program in swept:
        if not program.local_path.is_file():
            raise ManifestError(f"{program.local_path} (program {program.program_id}) is missing; re-run the export")
    check_program_hashes(swept)
    check_data_files(swept)
    return sorted(swept, key=paper_order_key)


def check_program_hashes(programs: list[Program]) -> None:
    """ManifestError naming the first program whose file on this host is not the one the manifest lists
    (its size or sha256 differs): such a file is never pushed, and a row never blames the device for it."""
    for program in programs:
        check_file_matches(program.local_path, f"program {program.program_id}", program.size_bytes, program.sha256)


def check_data_files(programs: list[Program]) -> None:
    """ManifestError unless every data file the programs need is listed by the manifest, present, and the file it
    lists (each file checked once)."""
    checked: set[Path] = set()
    for program in programs:
        path = program.data_local_path
        if path is None or path in checked:
            continue
        if program.data is None:
            raise ManifestError(f"program {program.program_id} keeps its weights in {program.entry.data_file}, which "
                                "the manifest does not list (a manifest before version 4); re-run the export")
        if not path.is_file():
            raise ManifestError(f"{path} (the weights of program {program.program_id}) is missing; re-run the export")
        check_file_matches(path, f"data file of {program.program_id}", program.data.size_bytes, program.data.sha256)
        checked.add(path)


def check_file_matches(path: Path, what: str, size_bytes: int, sha256: str) -> None:
    """ManifestError when the file at `path` (`what`) lacks the manifest's size or sha256."""
    found_size = path.stat().st_size
    if found_size != size_bytes:  # the free-space check and the push report trust size_bytes
        raise ManifestError(f"{path} ({what}) has {found_size} bytes, not the manifest's size_bytes {size_bytes}: "
                            "the file or the manifest changed after the export; re-run the export")
    found = file_sha256(path)
    if found != str(sha256).lower():
        raise ManifestError(f"{path} ({what}) has sha256 {found[:12]}..., not the manifest's {str(sha256)[:12]}...: "
                            "the file changed after the export; re-run the export")
