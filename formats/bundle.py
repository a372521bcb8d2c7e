"""bundle.json (docs/formats.md, section 8): a runner build's folder and every file in it, how the runner starts.

Written by the runner's build (android_app/cmake/write_bundle_manifest.cmake, run by android_app/build_*.sh: the
build must not need Python, so the writer there stays in CMake; `write_bundle` here writes the same document and
tests/formats/test_bundle.py checks the two agree); read by the sweep (bench.sweep.runners) to push the build.

The reader confines the bundle to its folder: every path it names (files, loader, library folders) must be a plain
relative path, and every listed file must resolve, symlinks followed, to a regular file inside the bundle folder.
Otherwise a planted bundle.json (or a symlink in the folder) could make the sweep push any file of this host to a
device. Version 2 added `launch`, `libc`, `source_wheel`, `elf_machine` and `max_elf_load_align_bytes`; version 1
files read as a plain build (no loader, `lib` as the library folder, the system libc).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formats.errors import FormatError
from formats.file_hash import file_sha256
from formats.json_file import write_json_atomically
from formats.schema import check_schema, record_fields, versioned

BUNDLE_SCHEMA = "splitbench.runner_bundle"
BUNDLE_SCHEMA_VERSION = 2
BUNDLE_VERSIONS: tuple[int, ...] = (1, 2)
BUNDLE_FILE = "bundle.json"
RUNNER_EXECUTABLE = "splitbench_runner"
LIBC_KINDS = ("system", "glibc-bundled")
ADVICE = "rebuild the runner (android_app/build_host.sh or android_app/build_android.sh)"


class BundleError(FormatError):
    """A bundle.json that cannot be read, or a bundle whose files are not what it says (or not inside it)."""


@dataclass(frozen=True)
class BundleFile:
    path: str  # relative to the bundle folder, "/"-separated
    sha256: str
    size_bytes: int
    mode: int


@dataclass(frozen=True)
class SourceWheel:
    """The wheel whose libraries the build links against (glibc-bundled builds)."""

    name: str
    version: str | None
    file: str | None
    sha256: str | None


@dataclass(frozen=True)
class RunnerBundle:
    folder: Path
    platform: str
    abi: str
    runner_version: str | None
    files: tuple[BundleFile, ...]
    loader: str | None = None  # launch.loader: start the runner through this bundled ELF loader
    library_path: tuple[str, ...] = ("lib",)  # launch.library_path, relative to the folder
    libc: str = "system"  # "system" | "glibc-bundled"
    source_wheel: SourceWheel | None = None
    elf_machine: str | None = None
    max_elf_load_align_bytes: int | None = None
    schema_version: int = field(default=BUNDLE_SCHEMA_VERSION, compare=False)

    @property
    def total_size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    def local_path(self, bundle_file: BundleFile) -> Path:
        return self.folder / bundle_file.path

    def to_json(self) -> dict[str, Any]:
        """The bundle.json document (at the current version) that describes this bundle."""
        return versioned(BUNDLE_SCHEMA, BUNDLE_SCHEMA_VERSION, {
            "platform": self.platform, "abi": self.abi, "runner_version": self.runner_version,
            "runner": RUNNER_EXECUTABLE,
            "launch": {"loader": self.loader, "library_path": list(self.library_path)}, "libc": self.libc,
            "source_wheel": None if self.source_wheel is None else vars(self.source_wheel),
            "elf_machine": self.elf_machine, "max_elf_load_align_bytes": self.max_elf_load_align_bytes,
            "files": [{"path": f.path, "sha256": f.sha256, "size_bytes": f.size_bytes, "mode": f"{f.mode:o}"}
                      for f in self.files],
        })


def parse_mode(mode: object) -> int:
    """bundle.json modes may be ints or octal strings such as "0755"; absent means 0644."""
    if mode is None:
        return 0o644
    if isinstance(mode, int) and not isinstance(mode, bool):
        return mode
    return int(str(mode), 8)


def check_bundle_path(path: Any, what: str, where: str) -> str:
    """`path` if it is a plain relative "/"-separated path (no absolute path, `..`, `.`, empty part, backslash or
    control character); BundleError otherwise."""
    if not isinstance(path, str) or not path:
        raise BundleError(f"{where}: {what} {path!r} is not a path; {ADVICE}")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in path):
        raise BundleError(f"{where}: {what} {path!r} holds a backslash or control character; {ADVICE}")
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        raise BundleError(f"{where}: {what} {path!r} is not a plain path inside the bundle folder (absolute, '..', "
                          f"'.' or an empty part); a bundle lists only its own files: {ADVICE}")
    return path


def confined_file(folder: Path, path: str, where: str) -> Path:
    """The real path of bundle file `path`: a regular file that, symlinks resolved, lies inside `folder` (itself
    resolved); BundleError otherwise (a symlink out of the bundle would push a file of this host to the device)."""
    root = folder.resolve()
    try:
        real = (folder / path).resolve(strict=True)
    except (OSError, RuntimeError):
        raise BundleError(f"{where}: {path} is missing from {folder}; {ADVICE}") from None
    if not real.is_relative_to(root):
        raise BundleError(f"{where}: {path} resolves to {real}, outside the bundle folder {root}; a bundle may only "
                          f"push its own files: remove the link and {ADVICE}")
    if not real.is_file():
        raise BundleError(f"{where}: {path} is not a regular file; {ADVICE}")
    return real


def _bundle_file(data: Any, where: str) -> BundleFile:
    values = record_fields(BundleFile, {"mode": None, **data} if isinstance(data, dict) else data,
                           f"{where}: a file entry", BundleError, ADVICE)
    path = check_bundle_path(values["path"], "file", where)
    try:
        size = values["size_bytes"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size_bytes {size!r}")
        if not isinstance(values["sha256"], str):
            raise ValueError(f"sha256 {values['sha256']!r}")
        return BundleFile(path=path, sha256=values["sha256"], size_bytes=size, mode=parse_mode(values["mode"]))
    except ValueError as exc:
        raise BundleError(f"{where}: file {path} has a malformed field ({exc}); {ADVICE}") from None


def bundle_from_json(document: Any, folder: Path, where: str) -> RunnerBundle:
    """The bundle a bundle.json document describes (schema-checked, every path plain and relative); the files
    themselves are checked by read_bundle."""
    version = check_schema(document, BUNDLE_SCHEMA, BUNDLE_VERSIONS, where, advice=ADVICE)
    for key in ("platform", "abi", "files"):
        if key not in document:
            raise BundleError(f"{where} lacks {key!r}; {ADVICE}")
    if not isinstance(document["files"], list):
        raise BundleError(f"{where}: files is not a list; {ADVICE}")
    files = tuple(_bundle_file(entry, where) for entry in document["files"])
    loader: str | None = None
    library_path: tuple[str, ...] = ("lib",)
    libc: Any = "system"
    wheel: SourceWheel | None = None
    if version >= 2:
        launch = document.get("launch")
        if not isinstance(launch, dict) or not isinstance(launch.get("library_path"), list):
            raise BundleError(f"{where}: launch must be an object with loader and library_path; {ADVICE}")
        loader = launch.get("loader")
        if loader is not None:
            check_bundle_path(loader, "launch.loader", where)
        library_path = tuple(check_bundle_path(p, "launch.library_path folder", where) for p in launch["library_path"])
        libc = document.get("libc")
        if libc not in LIBC_KINDS:
            raise BundleError(f"{where}: libc is {libc!r}, expected one of {', '.join(LIBC_KINDS)}; {ADVICE}")
        if document.get("source_wheel") is not None:
            wheel = SourceWheel(**record_fields(SourceWheel, document["source_wheel"], f"{where}: source_wheel",
                                                BundleError, ADVICE))
    for key in ("platform", "abi"):
        if not isinstance(document[key], str) or not document[key]:
            raise BundleError(f"{where}: {key} is {document[key]!r}, not a name; {ADVICE}")
    return RunnerBundle(folder=folder, platform=document["platform"], abi=document["abi"],
                        runner_version=document.get("runner_version"), files=files, loader=loader,
                        library_path=library_path, libc=libc, source_wheel=wheel,
                        elf_machine=document.get("elf_machine"),
                        max_elf_load_align_bytes=document.get("max_elf_load_align_bytes"), schema_version=version)


def read_bundle(folder: Path | str) -> RunnerBundle:
    """Read and check `folder`/bundle.json: the runner and the loader are listed, and every listed file is a
    regular file inside the folder (symlinks resolved) with the listed size. BundleError (or UnsupportedSchema)
    naming the problem otherwise."""
    folder = Path(folder)
    path = folder / BUNDLE_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path} does not exist; build the runner with android_app/build_host.sh "
                          "or android_app/build_android.sh") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} is unreadable ({exc}); {ADVICE}") from None
    bundle = bundle_from_json(document, folder, str(path))
    listed = {f.path for f in bundle.files}
    if bundle.loader is not None and bundle.loader not in listed:
        raise BundleError(f"{path} launches through {bundle.loader}, which it does not list; {ADVICE}")
    if RUNNER_EXECUTABLE not in listed:
        raise BundleError(f"{path} lists no {RUNNER_EXECUTABLE}; {ADVICE}")
    for bundle_file in bundle.files:
        real = confined_file(folder, bundle_file.path, str(path))
        if real.stat().st_size != bundle_file.size_bytes:
            raise BundleError(f"{bundle.local_path(bundle_file)} is missing or differs from {path}; {ADVICE}")
    return bundle


def write_bundle(folder: Path | str, platform: str, abi: str, runner_version: str, libc: str = "system",
                 loader: str | None = None, library_path: tuple[str, ...] | None = None,
                 source_wheel: SourceWheel | None = None, elf_machine: str | None = None,
                 max_elf_load_align_bytes: int = 0) -> RunnerBundle:
    """Describe every file under `folder` in `folder`/bundle.json (as the build's CMake writer does: files sorted,
    mode 755; the ELF facts are the caller's) and return the bundle."""
    folder = Path(folder)
    if libc not in LIBC_KINDS:
        raise BundleError(f"libc must be one of {', '.join(LIBC_KINDS)}, got {libc!r}")
    if library_path is None:
        library_path = ("lib",) if (folder / "lib").is_dir() else ()
    paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.relative_to(folder).as_posix() != BUNDLE_FILE)
    files = tuple(BundleFile(path, file_sha256(folder / path), (folder / path).stat().st_size, 0o755) for path in paths)
    bundle = RunnerBundle(folder=folder, platform=platform, abi=abi, runner_version=runner_version, files=files,
                          loader=loader, library_path=tuple(library_path), libc=libc, source_wheel=source_wheel,
                          elf_machine=elf_machine, max_elf_load_align_bytes=max_elf_load_align_bytes)
    write_json_atomically(folder / BUNDLE_FILE, bundle.to_json())
    return bundle
