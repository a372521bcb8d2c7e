"""Measures splitbench_runner itself on this machine (host build).

1. The runner's own overhead: per-iteration time of an almost empty program (x + 1 on a
   1x4 tensor), i.e. the floor under every inference time the runner reports.
2. With --manifest: load time, first and median inference time, peak (VmHWM) and steady
   (VmRSS after the runs) memory of every full/client program of an export manifest.

Usage: .venv/bin/python scripts/bench_runner.py [--manifest artifacts/export/manifest.json]
           [--core N] [--iterations 10] [--max-time-ms 0] [--backends xnnpack,lite] [--all-runtimes]
           [--overhead-iterations 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from export.errors import ExportError
from formats.backends import PRIMARY_RUNTIME, RUNTIMES, Runtime, optional_runtimes, runtime_formats, runtime_of_format
from formats.manifest import Manifest, load_manifest, program_file

REPO = Path(__file__).resolve().parent.parent
BUILD_ROOT = REPO / "android_app" / "build"


class BenchRunnerError(Exception):
    """A problem this script reports as one line before exiting."""


@dataclass(frozen=True)
class RunnerSettings:
    executables: dict[str, Path]  # program format ("pte", "ptl") -> runner that measures it
    core: int
    iterations: int
    max_time_ms: float  # 0 = no cap
    timeout_s: float


@dataclass(frozen=True)
class ProgramNumbers:
    program_id: str
    size_bytes: int
    load_ms: float
    first_inference_ms: float
    median_inference_ms: float
    vm_hwm_kb: int
    rss_after_runs_kb: int
    samples: int


def runner_path(runtime: Runtime) -> Path:
    """This host's runner build of `runtime` (its variant of formats.backends)."""
    executable = BUILD_ROOT / f"linux-{platform.machine()}{runtime.variant}" / "bundle" / "splitbench_runner"
    if not executable.exists():
        build = runtime.build_command("linux") or "bash android_app/build_host.sh"
        raise BenchRunnerError(f"no runner at {executable}; build it with: {build}")
    return executable


def run_once(settings: RunnerSettings, model: Path, iterations: int, extra: tuple[str, ...] = (),
             fmt: str = "pte") -> dict:
    command = [str(settings.executables[fmt]), "--model", str(model), "--core", str(settings.core),
               "--iterations", str(iterations), "--warmup", "1", "--max-time-ms", str(settings.max_time_ms), *extra]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=settings.timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchRunnerError(f"runner timed out after {settings.timeout_s:.0f} s on {model}") from None
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise BenchRunnerError(f"runner printed no JSON for {model} (exit {done.returncode}): "
                               f"{done.stderr.strip().splitlines()[-1:]}") from None
    if result["status"] != "ok":
        raise BenchRunnerError(f"runner failed on {model}: {result['error_kind']}: {result['message']}")
    return result


def numbers_from(program_id: str, result: dict) -> ProgramNumbers:
    timing, memory = result["timing"], result["memory"]
    return ProgramNumbers(
        program_id=program_id, size_bytes=result["model"]["size_bytes"], load_ms=timing["load_ms"],
        first_inference_ms=timing["first_inference_ms"],
        median_inference_ms=statistics.median(timing["inference_ms"]),
        vm_hwm_kb=memory["vm_hwm_kb"], rss_after_runs_kb=memory["rss_after_runs_kb"],
        samples=len(timing["inference_ms"]),
    )


def export_empty_program(folder: Path) -> Path:
    import torch
    from executorch.exir import to_edge_transform_and_lower

    class AddOne(torch.nn.Module):
        def forward(self, x):
            return x + 1

    exported = torch.export.export(AddOne(), (torch.zeros(1, 4),))
    path = folder / "add_one.pte"
    path.write_bytes(to_edge_transform_and_lower(exported).to_executorch().buffer)
    return path


def measure_overhead(settings: RunnerSettings, iterations: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        result = run_once(settings, export_empty_program(Path(folder)), iterations)
    return result["timing"]["inference_ms"]


def measure_manifest(settings: RunnerSettings, manifest_path: Path, manifest: Manifest,
                     backends: set[str]) -> list[ProgramNumbers]:
    numbers = []
    for entry in manifest.programs_with_role("full", "client"):
        if entry.format not in settings.executables or entry.backend not in backends:
            continue
        extra = (("--input-shape", ",".join(map(str, entry.input_shape)))
                 if runtime_of_format(entry.format).needs_input_shape else ())
        print(f"  running {entry.id} ({entry.size_bytes / 1e6:.1f} MB) ...", file=sys.stderr, flush=True)
        result = run_once(settings, program_file(manifest_path, entry), settings.iterations, extra, entry.format)
        numbers.append(numbers_from(entry.id, result))
    return numbers


def print_overhead(samples_ms: list[float]) -> None:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    print(f"runner overhead (x + 1 on 1x4, {len(ordered)} iterations): "
          f"median {pick(0.5):.2f} us, p5 {pick(0.05):.2f} us, p95 {pick(0.95):.2f} us, "
          f"max {ordered[-1] * 1000:.2f} us")


def print_table(rows: list[ProgramNumbers]) -> None:
    print(f"{'program':32} {'size_MB':>8} {'load_ms':>9} {'first_ms':>9} {'median_ms':>10} "
          f"{'peak_MB':>8} {'steady_MB':>9} {'n':>4}")
    for row in rows:
        print(f"{row.program_id:32} {row.size_bytes / 1e6:8.1f} {row.load_ms:9.1f} "
              f"{row.first_inference_ms:9.1f} {row.median_inference_ms:10.2f} "
              f"{row.vm_hwm_kb / 1024:8.1f} {row.rss_after_runs_kb / 1024:9.1f} {row.samples:4d}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, help="export manifest whose full/client programs to run")
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)), help="core to pin to")
    parser.add_argument("--iterations", type=int, default=10, help="timed inferences per program")
    parser.add_argument("--overhead-iterations", type=int, default=5000)
    parser.add_argument("--max-time-ms", type=float, default=0.0,
                        help="cap on each program's timed runs (0 = none; the portable full model takes ~70 s each)")
    parser.add_argument("--backends", default="xnnpack,lite",
                        help="comma-separated manifest backends to run (xnnpack, portable, lite)")
    parser.add_argument("--all-runtimes", "--lite", dest="all_runtimes", action="store_true",
                        help="also use the other runtimes' builds (the Lite build: .ptl programs)")
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="per runner launch")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # .pte programs always run on the plain build: the Lite build's libtorch adds ~110 MB to every RSS.
        executables = {fmt: runner_path(RUNTIMES[PRIMARY_RUNTIME]) for fmt in runtime_formats(RUNTIMES[PRIMARY_RUNTIME])}
        for runtime in optional_runtimes() if args.all_runtimes else ():
            executables.update({fmt: runner_path(runtime) for fmt in runtime_formats(runtime)})
        settings = RunnerSettings(executables, args.core, args.iterations, args.max_time_ms, args.timeout_s)
        manifest = load_manifest(args.manifest) if args.manifest else None
        print_overhead(measure_overhead(settings, args.overhead_iterations))
        if manifest is not None:
            print_table(measure_manifest(settings, args.manifest, manifest, set(args.backends.split(","))))
    except (BenchRunnerError, ExportError) as error:
        print(f"bench_runner: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
