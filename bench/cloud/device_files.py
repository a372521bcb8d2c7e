"""One extra launch of the runner on the device that leaves files behind (--write-input, --write-output,
--etdump) in a folder of its own, and the pull of those files to this host."""

from __future__ import annotations

import posixpath
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.adb.scripts import run_script, section_marker, split_sections
from bench.sweep.deploy import DeviceLayout
from bench.sweep.launch import STDERR_TAIL_BYTES, classify_launch, parse_exit_code
from bench.sweep.programs import Program

CLOUD_FOLDER = "cloud"
INPUT_FILE = "input.raw"
OUTPUT_FILE = "output.raw"
ETDUMP_FILE = "trace.etdp"
LAUNCH_TIMEOUT_S = 1800


@dataclass(frozen=True)
class FileLaunch:
    """What to run: the program, the core, how many timed runs, the device path of the input image, and which
    files to leave in `device_dir`."""

    program: Program
    core: int
    device_dir: str
    input_path: str
    iterations: int = 1
    warmup: int = 0
    write_io: bool = True
    etdump: bool = False

    def device_file(self, name: str) -> str:
        return posixpath.join(self.device_dir, name)

    def wanted_files(self) -> list[str]:
        names = [INPUT_FILE, OUTPUT_FILE] if self.write_io else []
        return names + ([ETDUMP_FILE] if self.etdump else [])


@dataclass
class FileLaunchOutcome:
    status: str  # a results-row status: ok, runner_error, runner_crash, timeout
    runner: dict | None
    exit_code: int | None
    stderr: str
    wall_s: float
    local_files: dict[str, Path] = field(default_factory=dict)  # file name -> pulled local path


def cloud_device_dir(layout: DeviceLayout, run_id: str, launch_name: str) -> str:
    """<root>/cloud/<run id>/<launch name>: one folder per launch, so no launch reads another's files."""
    return posixpath.join(layout.root, CLOUD_FOLDER, run_id, launch_name)


def runner_arguments(layout: DeviceLayout, launch: FileLaunch) -> list[str]:
    argv = ["--model", layout.model_path(launch.program), "--iterations", str(launch.iterations),
            "--warmup", str(launch.warmup), "--core", str(launch.core), "--threads", "1",
            "--input", launch.input_path]
    data = layout.data_path(launch.program)
    if data is not None:
        argv += ["--data", data]
    if launch.write_io:
        argv += ["--write-input", launch.device_file(INPUT_FILE), "--write-output", launch.device_file(OUTPUT_FILE)]
    if launch.etdump:
        argv += ["--etdump", launch.device_file(ETDUMP_FILE)]
    return argv


def file_launch_script(layout: DeviceLayout, launch: FileLaunch, timeout_s: int = LAUNCH_TIMEOUT_S) -> str:
    runner = layout.runner_for(launch.program)
    folder = shlex.quote(launch.device_dir)
    stdout_path = shlex.quote(launch.device_file("stdout.json"))
    stderr_path = shlex.quote(launch.device_file("stderr.txt"))
    return "\n".join([
        f"rm -rf {folder} && mkdir -p {folder} || exit 96",
        f"cd {shlex.quote(runner.folder)} || exit 97",
        f'limit=""; if command -v timeout >/dev/null 2>&1; then limit="timeout -k 5 {int(timeout_s)}"; fi',
        f"$limit {runner.command(*runner_arguments(layout, launch))} >{stdout_path} 2>{stderr_path}",
        "rc=$?",
        section_marker("rc"), 'echo "$rc"',
        section_marker("stdout"), f"cat {stdout_path}",
        section_marker("stderr"), f"tail -c {STDERR_TAIL_BYTES} {stderr_path}",
        "true",
    ])


def run_file_launch(connection, layout: DeviceLayout, launch: FileLaunch, local_dir: Path,
                    timeout_s: int = LAUNCH_TIMEOUT_S) -> FileLaunchOutcome:
    """Launch once, then pull the files asked for into `local_dir` (only when the runner said ok)."""
    started = time.perf_counter()
    result = run_script(connection, file_launch_script(layout, launch, timeout_s), timeout_s=timeout_s + 60)
    wall_s = time.perf_counter() - started
    sections = split_sections(result.output)
    exit_code = parse_exit_code(sections.get("rc"))
    stderr = sections.get("stderr", "") if "rc" in sections else result.output[-STDERR_TAIL_BYTES:]
    status, runner = classify_launch(exit_code, sections.get("stdout", ""), wall_s, timeout_s)
    outcome = FileLaunchOutcome(status, runner, exit_code, stderr, round(wall_s, 4))
    if status != "ok":
        return outcome
    local_dir.mkdir(parents=True, exist_ok=True)
    for name in launch.wanted_files():
        outcome.local_files[name] = connection.pull(launch.device_file(name), local_dir / name)
    return outcome


def remove_device_dir(connection, device_dir: str) -> None:
    run_script(connection, f"rm -rf {shlex.quote(device_dir)}", timeout_s=60)
