"""Content-addressed reuse of exported programs: a program is rewritten only when its inputs changed."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

from formats.file_hash import file_sha256
from formats.manifest import Manifest, ProgramEntry

# Bump when a change to export/ alters the programs it writes for the same inputs.
EXPORTER_REVISION = 2


def program_cache_key(*, program_id: str, configuration: str, role: str, split_point: str | None, backend: str,
                      arch: str, weights_id: str, model_id: str, projection_key: str | None,
                      noise_variance: float | None, tools: dict[str, str], quantization: dict | None = None,
                      storage: str | None = None) -> str:
    """Hex sha256 over everything that determines a program's bytes: also the architecture, and for int8
    programs `quantization` (scheme, calibration and held-out images: they decide its bytes and its accuracy), and
    `storage` when the weights are not in the program itself ("shared_weights"; left out of the key otherwise, so
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
    """Programs shared between export folders, content-addressed by their cache key.

    `<root>/<cache key>.<suffix>` is the program file and `<root>/<cache key>.json` a one-program manifest with its
    entry. An export folder gets the file as a hard link (the same inode: the disk holds it once, every folder
    stays self-contained, deleting a folder or the store never breaks the other; a symlink would dangle when the
    store is pruned). Only when the two paths are on different file systems is the file copied.
    Programs whose weights live in a folder's shared data file (fp32 XNNPACK programs, export.shared_weights) are
    not stored: their weights are the folder's.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def program_path(self, cache_key: str, suffix: str) -> Path:
        return self.root / f"{cache_key}.{suffix}"

    def entry_path(self, cache_key: str) -> Path:
        return self.root / f"{cache_key}.json"

    def lookup(self, cache_key: str) -> ProgramEntry | None:
        """The stored entry for `cache_key` if its file is intact (size and sha256), else None."""
        from formats.errors import ManifestError
        from formats.manifest import load_manifest

        entry_path = self.entry_path(cache_key)
        if not entry_path.is_file():
            return None
        try:
            entries = load_manifest(entry_path).programs
        except ManifestError:
            return None
        if len(entries) != 1 or entries[0].cache_key != cache_key:
            return None
        entry = entries[0]
        path = self.program_path(cache_key, entry.format)
        if not path.is_file() or path.stat().st_size != entry.size_bytes or file_sha256(path) != entry.sha256:
            return None
        return entry

    def link_into(self, entry: ProgramEntry, out_dir: Path) -> None:
        """Put the stored file of `entry` at `out_dir/entry.file` (replacing what is there, atomically)."""
        place_link(self.program_path(entry.cache_key, entry.format), out_dir / entry.file)

    def add(self, entry: ProgramEntry, out_dir: Path, manifest: Manifest) -> None:
        """Store the program `entry` of `out_dir` (a link to its file and its entry), unless it is stored already."""
        from formats.manifest import write_manifest

        if entry.data_file is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.program_path(entry.cache_key, entry.format)
        source = out_dir / entry.file
        if not (target.is_file() and os.path.samefile(target, source)):
            place_link(source, target)
        write_manifest(self.entry_path(entry.cache_key), replace(manifest, programs=[entry]))

    def prune(self) -> list[str]:
        """Remove stored programs no export folder links to any more (link count 1); return their cache keys."""
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
        return removed


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
