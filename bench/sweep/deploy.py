"""Put the runner and the model files on the device, pushing only what differs.

The plain runner goes to ``<root>/runner``; the runner of another runtime (formats.backends: the TorchScript
Lite one), only when the sweep has programs of it, to its own folder (``<root>/runner-lite``); the models, and the
data files holding the weights of programs that keep them outside (once per file), to ``<root>/models``.
A file is pushed when the device's copy is missing or its ``sha256sum`` differs (every
file, on a device without sha256sum). Free space is checked before the first byte moves;
pushed files are hashed again on the device.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.adb.device import Device
from bench.adb.scripts import run_script, section_marker, split_sections
from bench.device.facts import parse_df_available_bytes
from bench.errors import InsufficientStorage, TransferFailed
from bench.sweep.programs import Program
from bench.sweep.runners import RUNNER_EXECUTABLE, RunnerBundle
from formats.backends import PRIMARY_RUNTIME, RUNTIMES
from formats.errors import ManifestError

DEVICE_SPLITBENCH_ROOT = "/data/local/tmp/splitbench"
STORAGE_MARGIN_BYTES = 8 * 1024 * 1024
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


PushConnection = Device  # the device contract (bench.adb.device): shell and push are what deploy uses


RUNNER_FOLDER = RUNTIMES[PRIMARY_RUNTIME].device_folder


@dataclass(frozen=True)
class DeviceRunner:
    """Where one runner bundle lives on the device, and how it is started (its bundle.json `launch`)."""

    folder: str
    loader: str | None = None  # relative to the folder: the bundled ELF loader (glibc-bundled builds)
    library_path: tuple[str, ...] = ("lib",)  # relative to the folder

    @property
    def executable(self) -> str:
        return posixpath.join(self.folder, RUNNER_EXECUTABLE)

    @property
    def lib_dir(self) -> str:
        return posixpath.join(self.folder, "lib")

    def command(self, *args: str) -> str:
        """The shell command that starts the runner with `args`, every word quoted.

        A glibc-bundled runner starts through its own loader with absolute library folders and without
        the device's LD_LIBRARY_PATH / LD_PRELOAD (they belong to the device's own libc); a plain build
        starts with its lib/ on LD_LIBRARY_PATH. Either way the command begins with `env`, so that it can
        follow a `timeout` prefix."""
        if self.loader is not None:
            folders = ":".join(posixpath.join(self.folder, path) for path in self.library_path)
            argv = [posixpath.join(self.folder, self.loader), "--library-path", folders, self.executable, *args]
            return "env -u LD_LIBRARY_PATH -u LD_PRELOAD " + " ".join(shlex.quote(arg) for arg in argv)
        argv = ["env", f"LD_LIBRARY_PATH={self.lib_dir}", self.executable, *args]
        return " ".join(shlex.quote(arg) for arg in argv)


@dataclass(frozen=True)
class DeviceLayout:
    root: str = DEVICE_SPLITBENCH_ROOT
    runner_loader: str | None = None  # the plain runner bundle's launch (bundle.json), see DeviceRunner
    runner_library_path: tuple[str, ...] = ("lib",)

    @classmethod
    def for_bundle(cls, bundle: RunnerBundle, root: str = DEVICE_SPLITBENCH_ROOT) -> DeviceLayout:
        return cls(root=root, runner_loader=bundle.loader, runner_library_path=bundle.library_path)

    @property
    def runner(self) -> DeviceRunner:
        return DeviceRunner(posixpath.join(self.root, RUNNER_FOLDER), self.runner_loader, self.runner_library_path)

    def runner_of(self, runtime: str) -> DeviceRunner:
        """The runner build of `runtime` (formats.backends.RUNTIMES), in its own device folder."""
        if RUNTIMES[runtime].primary:
            return self.runner
        return DeviceRunner(posixpath.join(self.root, RUNTIMES[runtime].device_folder))

    def runner_for(self, program: Program) -> DeviceRunner:
        """A program runs with the runner of its format's runtime."""
        return self.runner_of(program.runtime.name)

    @property
    def models_dir(self) -> str:
        return posixpath.join(self.root, "models")

    @property
    def runner_path(self) -> str:
        return self.runner.executable

    def model_path(self, program: Program) -> str:
        return posixpath.join(self.models_dir, program.device_file_name)

    def data_path(self, program: Program) -> str | None:
        """Where the data file holding `program`'s weights goes (beside the models), or None when it has none."""
        local = program.data_local_path
        return posixpath.join(self.models_dir, local.name) if local is not None else None

    def program_paths(self, program: Program) -> list[str]:
        """The device files `program` needs: its model and, when it has one, its data file."""
        data = self.data_path(program)
        return [self.model_path(program)] + ([data] if data is not None else [])


@dataclass(frozen=True)
class DeployItem:
    local_path: Path
    device_path: str
    sha256: str
    size_bytes: int
    mode: int
    required: bool  # a failure to push it stops the sweep (the plain runner); else it only fails its programs


@dataclass
class DeployReport:
    files_checked: int = 0
    files_pushed: int = 0
    bytes_pushed: int = 0
    hash_check_s: float = 0.0
    push_s: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # device path -> message

    def to_json(self) -> dict:
        return {
            "files_checked": self.files_checked, "files_pushed": self.files_pushed,
            "bytes_pushed": self.bytes_pushed, "hash_check_s": round(self.hash_check_s, 4),
            "push_s": round(self.push_s, 4), "failures": dict(self.failures),
        }

    def first_failure_in(self, folder: str) -> str | None:
        """The message of the first file under ``folder`` that could not be put on the device."""
        prefix = folder.rstrip("/") + "/"
        return next((f"{path}: {message}" for path, message in self.failures.items() if path.startswith(prefix)),
                    None)


def runner_items(bundle: RunnerBundle, runner: DeviceRunner, required: bool) -> list[DeployItem]:
    return [
        DeployItem(local_path=bundle.local_path(f), device_path=posixpath.join(runner.folder, f.path),
                   sha256=f.sha256.lower(), size_bytes=f.size_bytes,
                   mode=0o755 if f.path == RUNNER_EXECUTABLE else f.mode, required=required)
        for f in bundle.files
    ]


def deploy_items(bundle: RunnerBundle, programs: list[Program], layout: DeviceLayout,
                 runtime_bundles: Mapping[str, RunnerBundle] | None = None) -> list[DeployItem]:
    """Everything the sweep needs on the device: the runner bundle's files, the files of the other runtimes'
    runners given by runtime name (a failure there only fails that runtime's programs), each program's model and
    each data file the programs keep their weights in (once, however many programs share it)."""
    items = runner_items(bundle, layout.runner, required=True)
    for runtime, runtime_bundle in (runtime_bundles or {}).items():
        items += runner_items(runtime_bundle, layout.runner_of(runtime), required=False)
    items += [
        DeployItem(local_path=p.local_path, device_path=layout.model_path(p), sha256=p.sha256.lower(),
                   size_bytes=p.size_bytes, mode=0o644, required=False)
        for p in programs
    ]
    data_items: dict[str, DeployItem] = {}
    for p in programs:
        device_path, local_path = layout.data_path(p), p.data_local_path
        if device_path is None or local_path is None or device_path in data_items:
            continue
        if p.data is None:
            raise ManifestError(f"program {p.program_id} keeps its weights in {p.entry.data_file}, which its manifest "
                                "does not list with a sha256 (a manifest before version 4); re-run the export")
        data_items[device_path] = DeployItem(local_path=local_path, device_path=device_path,
                                             sha256=p.data.sha256.lower(), size_bytes=p.data.size_bytes, mode=0o644,
                                             required=False)
    return items + list(data_items.values())


def hash_check_script(items: list[DeployItem], free_space_dir: str) -> str:
    """Prints one ``index|digest`` line per item (digest empty when the file is missing), then df.

    Each file is hashed from stdin, so that sha256sum prints no file name (which it would escape, with a
    leading backslash, when the name holds a backslash or a newline)."""
    folders = sorted({posixpath.dirname(item.device_path) for item in items})
    hash_lines = [
        f'echo "{index}|$(sha256sum 2>/dev/null <{shlex.quote(item.device_path)} | cut -d " " -f 1)"'
        for index, item in enumerate(items)
    ]
    return "\n".join([
        f"mkdir -p {' '.join(shlex.quote(f) for f in folders)}",
        section_marker("has_sha256sum"),
        "if command -v sha256sum >/dev/null 2>&1; then echo yes; else echo no; fi",
        section_marker("sha256"), *hash_lines,
        section_marker("df"), f"df -k {shlex.quote(free_space_dir)} 2>/dev/null",
        "true",
    ])


def parse_digests(text: str, items: list[DeployItem]) -> dict[str, str]:
    """``index|digest`` lines -> device path -> lower-case hex digest (missing files left out)."""
    digests = {}
    for line in text.splitlines():
        index, _, digest = line.strip().partition("|")
        digest = digest.removeprefix("\\")  # sha256sum marks a line with an escaped file name so
        if index.isdigit() and int(index) < len(items) and SHA256_HEX.fullmatch(digest):
            digests[items[int(index)].device_path] = digest.lower()
    return digests


@dataclass(frozen=True)
class DeviceFileState:
    digests: dict[str, str]  # device path -> sha256 of the device's copy (missing files left out)
    free_bytes: int | None
    can_hash: bool  # False on devices without sha256sum: every file is pushed, sizes checked by the push


def device_file_state(connection: PushConnection, items: list[DeployItem], layout: DeviceLayout) -> DeviceFileState:
    """The device copies' sha256 digests and the free bytes where the files go (one round trip)."""
    result = run_script(connection, hash_check_script(items, layout.root), timeout_s=600)
    sections = split_sections(result.output)
    return DeviceFileState(
        digests=parse_digests(sections.get("sha256", ""), items),
        free_bytes=parse_df_available_bytes(sections.get("df", "")),
        can_hash=(sections.get("has_sha256sum") or "").strip() == "yes",
    )


def check_free_space(to_push: list[DeployItem], free_bytes: int | None) -> None:
    needed = sum(item.size_bytes for item in to_push)
    if free_bytes is not None and to_push and needed + STORAGE_MARGIN_BYTES > free_bytes:
        largest = max(to_push, key=lambda item: item.size_bytes)
        raise InsufficientStorage(
            f"the device needs {megabytes_text(needed + STORAGE_MARGIN_BYTES)} MB free in {DEVICE_SPLITBENCH_ROOT} "
            f"for {len(to_push)} file(s) but has {megabytes_text(free_bytes)} MB; free space on the device "
            "or select fewer programs with --configs/--formats "
            f"(the largest file is {largest.device_path}, {megabytes_text(largest.size_bytes)} MB)"
        )


def megabytes_text(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.1f}"


def deploy(connection: PushConnection, items: list[DeployItem], layout: DeviceLayout,
           clock=time.perf_counter) -> DeployReport:
    """Push every item whose device copy differs, then check what was pushed.

    Raises InsufficientStorage before pushing anything when space is short, and
    TransferFailed when a required item (the runner) cannot be put in place. A failed
    model file is recorded in ``report.failures`` and the caller decides.
    """
    report = DeployReport(files_checked=len(items))
    started = clock()
    before = device_file_state(connection, items, layout)
    report.hash_check_s += clock() - started
    to_push = [item for item in items if before.digests.get(item.device_path) != item.sha256]
    check_free_space(to_push, before.free_bytes)

    started = clock()
    pushed = []
    for item in to_push:
        try:
            connection.push(str(item.local_path), item.device_path, item.mode)
        except InsufficientStorage:
            raise  # the device filled up after all: stop with the clear error, not a row per program
        except TransferFailed as exc:
            report.failures[item.device_path] = str(exc)
            continue
        pushed.append(item)
        report.files_pushed += 1
        report.bytes_pushed += item.size_bytes
    executables = [item.device_path for item in items if item.mode & 0o111]
    if executables:
        run_script(connection, "chmod 755 " + " ".join(shlex.quote(p) for p in executables), timeout_s=60)
    report.push_s += clock() - started

    if pushed and before.can_hash:
        started = clock()
        after = device_file_state(connection, pushed, layout)
        report.hash_check_s += clock() - started
        for item in pushed:
            if after.digests.get(item.device_path) != item.sha256:
                report.failures[item.device_path] = (
                    f"{item.device_path} on the device does not match {item.local_path} after the push"
                )
    required_failures = [item for item in items if item.required and item.device_path in report.failures]
    if required_failures:
        first = required_failures[0]
        raise TransferFailed(f"could not put the runner file {first.device_path} on the device "
                             f"({report.failures[first.device_path]}); check the device's storage and retry")
    return report
