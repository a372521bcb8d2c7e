"""Content-addressed reuse of exported programs: a program is rewritten only when its inputs changed."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from formats.file_hash import file_sha256
from formats.manifest import DataFileInfo, Manifest, ProgramEntry

DATA_SUFFIX = "ptd"
PROJECTION_SUFFIX = "pca.pt"

# Bump when a change to export/ alters the programs it writes for the same inputs.
EXPORTER_REVISION = 2


def program_cache_key(*, program_id: str, configuration: str, role: str, split_point: str | None, backend: str,
                      arch: str, weights_id: str, model_id: str, projection_key: str | None,
                      noise_variance: float | None, tools: dict[str, str], quantization: dict | None = None,
                      storage: str | None = None) -> str:
    """Hex sha256 over everything that determines a program's bytes: also the architecture, and for int8
    programs `quantization` (scheme, calibration and held-out images: they decide its bytes and its accuracy), and
    `storage` when the weights are not in the program itself ("shared_model_weights"; left out of the key otherwise, so
    that the keys of self-contained programs are those of earlier exports)."""
    material = {
        "exporter_revision": EXPORTER_REVISION, "program_id": program_id, "configuration": configuration,
        "role": role, "split_point": split_point, "backend": backend, "arch": arch, "weights": weights_id,
        "model": model_id,
        "projection": projection_key, "noise_variance": noise_variance, "tools": tools,
        "quantization": quantization,
    }
    if storage is not None:
        material["storage"] = storage
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def reusable_entry(previous: ProgramEntry | None, cache_key: str, out_dir: Path) -> ProgramEntry | None:
    """The previous entry if it has the same key and its file still has the recorded size and sha256."""
    if previous is None or previous.cache_key != cache_key:
        return None
    path = out_dir / previous.file
    if not path.is_file() or path.stat().st_size != previous.size_bytes:
        return None
    return previous if file_sha256(path) == previous.sha256 else None


class ProgramStore:
    """Programs shared between export folders, content-addressed by their cache key, and the data files their
    weights live in, content-addressed by their sha256.

    `<root>/<cache key>.<suffix>` is the program file and `<root>/<cache key>.json` a one-program manifest with its
    entry; `<root>/<sha256>.ptd` a data file (export.shared_weights) that programs of the store keep their weights
    in; `<root>/<key>.pca.pt` a fitted PCA projection (export.pca). An export folder gets a file as a hard link (the same inode: the disk holds it once, every folder stays
    self-contained, deleting a folder or the store never breaks the other; a symlink would dangle when the store
    is pruned). Only when the two paths are on different file systems is the file copied. Folders whose data files
    are byte for byte the same (each holds the full model's weights and no other: the weights a program adds stay
    inside it) end up with one data file on disk (share_data_file).
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.verified: dict[Path, tuple[int, int, int]] = {}  # data file -> (inode, size, mtime) found intact

    def data_file_intact(self, sha256: str, size_bytes: int) -> bool:
        """Whether the stored data file `sha256` is intact, hashing it once per store object (every program that
        keeps its weights there would hash its 537 MB again: 14 s of a 65 s full-size export, measured)."""
        path = self.data_file_path(sha256)
        if not path.is_file():
            return False
        status = path.stat()
        fingerprint = (status.st_ino, status.st_size, status.st_mtime_ns)
        if self.verified.get(path) == fingerprint:
            return True
        if not intact(path, size_bytes, sha256):
            return False
        self.verified[path] = fingerprint
        return True

    def program_path(self, cache_key: str, suffix: str) -> Path:
        return self.root / f"{cache_key}.{suffix}"

    def entry_path(self, cache_key: str) -> Path:
        return self.root / f"{cache_key}.json"

    def data_file_path(self, sha256: str) -> Path:
        return self.root / f"{sha256}.{DATA_SUFFIX}"

    def projection_path(self, key: str) -> Path:
        return self.root / f"{key}.{PROJECTION_SUFFIX}"

    def link_projection(self, key: str, target: Path) -> bool:
        """Put the stored PCA projection with `key` (export.pca: content-addressed by what it was fitted from) at
        `target`; False when the store has none. Fitting VGG-16's three takes 13 s at full size (measured)."""
        stored = self.projection_path(key)
        if not stored.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_file() and os.path.samefile(stored, target)):
            place_link(stored, target)
        return True

    def add_projection(self, key: str, source: Path) -> None:
        """Store the projection file `source` under `key`, unless it is stored already."""
        self.root.mkdir(parents=True, exist_ok=True)
        stored = self.projection_path(key)
        if not (stored.is_file() and os.path.samefile(stored, source)):
            place_link(source, stored)

    def lookup(self, cache_key: str) -> StoredProgram | None:
        """The stored program for `cache_key` if its file (and the data file holding its weights) is intact (size
        and sha256), else None."""
        from formats.errors import ManifestError
        from formats.manifest import load_manifest

        entry_path = self.entry_path(cache_key)
        if not entry_path.is_file():
            return None
        try:
            stored = load_manifest(entry_path)
        except ManifestError:
            return None
        if len(stored.programs) != 1 or stored.programs[0].cache_key != cache_key:
            return None
        entry = stored.programs[0]
        if not intact(self.program_path(cache_key, entry.format), entry.size_bytes, entry.sha256):
            return None
        if entry.data_file is None:
            return StoredProgram(entry, None)
        info = stored.data_file(entry.data_file)
        if info is None or not self.data_file_intact(info.sha256, info.size_bytes):
            return None
        return StoredProgram(entry, self.data_file_path(info.sha256))

    def link_into(self, entry: ProgramEntry, out_dir: Path) -> None:
        """Put the stored file of `entry` at `out_dir/entry.file` (replacing what is there, atomically)."""
        place_link(self.program_path(entry.cache_key, entry.format), out_dir / entry.file)

    def add(self, entry: ProgramEntry, out_dir: Path, manifest: Manifest) -> None:
        """Store the program `entry` of `out_dir` (a link to its file and its entry), unless it is stored already;
        a program whose weights are in a data file is stored with that data file (share_data_file)."""
        from formats.manifest import write_manifest

        if entry.data_file is not None and manifest.data_file(entry.data_file) is None:
            return  # a manifest before version 4: the data file's sha256 is unknown
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.program_path(entry.cache_key, entry.format)
        source = out_dir / entry.file
        if not (target.is_file() and os.path.samefile(target, source)):
            place_link(source, target)
        data_files = [info for info in manifest.data_files if info.file == entry.data_file]
        write_manifest(self.entry_path(entry.cache_key), replace(manifest, programs=[entry], data_files=data_files))

    def share_data_file(self, path: Path, info: DataFileInfo) -> None:
        """Make the folder's data file at `path` (described by `info`) and the store's copy with the same sha256
        one file on disk: the folder gets the stored file when there is an intact one, else the store gets the
        folder's."""
        self.root.mkdir(parents=True, exist_ok=True)
        stored = self.data_file_path(info.sha256)
        if stored.is_file() and os.path.samefile(stored, path):
            return
        if self.data_file_intact(info.sha256, info.size_bytes):
            place_link(stored, path)
        else:
            place_link(path, stored)

    def prune(self) -> list[str]:
        """Remove stored programs, data files and projections no export folder links to any more (link count 1);
        return the cache keys, data file digests and projection keys removed."""
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for entry_path in self.root.glob("*.json"):
            key = entry_path.stem
            files = [path for path in self.root.glob(f"{key}.*") if path.suffix != ".json"]
            if files and all(path.stat().st_nlink > 1 for path in files):
                continue
            for path in [*files, entry_path]:
                path.unlink(missing_ok=True)
            removed.append(key)
        for path in [*self.root.glob(f"*.{DATA_SUFFIX}"), *self.root.glob(f"*.{PROJECTION_SUFFIX}")]:
            if path.stat().st_nlink == 1:
                path.unlink()
                removed.append(path.name.split(".", 1)[0])
        return removed


@dataclass(frozen=True)
class StoredProgram:
    """A program of the store: its entry and the stored data file its weights are in (None: inside it)."""

    entry: ProgramEntry
    data_path: Path | None


def intact(path: Path, size_bytes: int, sha256: str) -> bool:
    """Whether the file at `path` exists with that size and sha256."""
    return path.is_file() and path.stat().st_size == size_bytes and file_sha256(path) == sha256


def place_link(source: Path, target: Path) -> None:
    """Hard-link `source` at `target` atomically (a copy across file systems)."""
    temporary = target.with_name(target.name + ".link")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, temporary)
    temporary.replace(target)
