"""Device programs with their weights inside against one shared data file (.ptd), on the host runner.

Exports a seeded VGG-16 (1000 classes, 224 px, full width by default) and its conv5_3 client four ways:

  full embedded     the full model's .pte with its weights inside
  full shared       the full model's .pte without them, loaded with --data shared.ptd
  client embedded   the client's .pte with its weights inside
  client shared     the client's .pte without them, loaded with --data shared.ptd

where shared.ptd is ONE data file holding the union of both programs' weights (export/shared_weights.py), as an
export folder keeps them. Then launches android_app's host runner (android_app/build/linux-<arch>/bundle) pinned
to --core with one thread, the variants interleaved (A B C D, A B C D, ... for --rounds rounds, in each of
--load-mode file and mmap), and prints per variant and load mode the medians over the rounds of load_ms (program +
method load; with the fastest launch's beside it), the first inference and peak RSS (VmHWM), the median of every
timed inference, how many timed inferences lost the core to another task (the runner's interference.
preempted_samples: on a busy machine the medians move), and whether the outputs agree with the embedded
program's; then the disk: both programs embedded against both programs plus the one data file. Every file is in
the page cache (just written), so load times are not those of a cold start.

    .venv/bin/python -m scripts.bench_device_weights [--width-divisor 1] [--input-size 224] [--rounds 3]
        [--iterations 10] [--core 1] [--out DIR] [--runner PATH]

A quick run: --width-divisor 8 --input-size 32.

Measured at full size on core 1 of a 2-core VM busy with other work (load average 2.7): disk 612 MB embedded
(553 + 59) against 553 MB shared (two 0.01 MB programs and the data file: the client's weights are the full
model's); medians embedded/shared, file mode: load 950/626 ms full (fastest 624/556), 86/84 ms client; mmap:
306/297 ms full, 63/55 ms client; first and steady inference (~305/292 ms full, ~291/273 ms client) and peak RSS
(1056 MB full, 126 MB client) alike; outputs identical.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from export.architectures import architecture_graph, seeded_model
from export.executorch_writer import write_pte
from export.models import ModelShape
from export.programs import example_tensor
from export.shared_weights import SharedWeights, write_pte_with_external_weights
from export.split_model import split_graph

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "android_app" / "build" / f"linux-{platform.machine()}" / "bundle" / "splitbench_runner"
SPLIT_POINT = "conv5_3"
SHARED_DATA_FILE = "shared.ptd"
LOAD_MODES = ("file", "mmap")
MB = 1e6


@dataclass(frozen=True)
class Variant:
    name: str  # e.g. "full embedded"
    program: Path
    data: Path | None  # the --data file, None for an embedded program

    def runner_args(self) -> list[str]:
        return ["--model", str(self.program)] + (["--data", str(self.data)] if self.data else [])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width-divisor", type=int, default=1, help="channel divisor (default 1: full VGG-16)")
    parser.add_argument("--input-size", type=int, default=224, help="image side in pixels (default 224)")
    parser.add_argument("--rounds", type=int, default=3, help="launches per variant and load mode (default 3)")
    parser.add_argument("--iterations", type=int, default=10, help="timed inferences per launch (default 10)")
    parser.add_argument("--core", type=int, default=1, help="core the runner is pinned to (default 1)")
    parser.add_argument("--out", type=Path, help="folder for the programs, kept (default: a temporary folder)")
    parser.add_argument("--runner", type=Path, default=RUNNER, help="splitbench_runner (default: the host build)")
    return parser.parse_args(argv)


def export_variants(folder: Path, shape: ModelShape) -> list[Variant]:
    """The four programs and the shared data file, written into `folder`."""
    model = seeded_model("vgg16", shape, 0).eval()
    image = example_tensor(shape.input_shape)
    client = split_graph(architecture_graph("vgg16", model, shape.input_size), SPLIT_POINT).client
    shared = SharedWeights()
    for name, module in (("full", model), ("client", client)):
        write_pte(module, image, folder / f"{name}.embedded.pte", "xnnpack")
        part = folder / f"{name}.part.ptd"
        write_pte_with_external_weights(module, image, folder / f"{name}.shared.pte", part)
        if part.is_file():  # none when the delegate kept every weight inside
            shared.add_file(part)
            part.unlink()
    shared.write(folder / SHARED_DATA_FILE)
    return [Variant(f"{name} {way}", folder / f"{name}.{way}.pte", folder / SHARED_DATA_FILE if way == "shared" else None)
            for name in ("full", "client") for way in ("embedded", "shared")]


def run_runner(runner: Path, variant: Variant, load_mode: str, args: argparse.Namespace) -> dict:
    command = [str(runner), *variant.runner_args(), "--load-mode", load_mode, "--core", str(args.core),
               "--threads", "1", "--iterations", str(args.iterations), "--warmup", "1", "--input", "random",
               "--seed", "0"]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=1800)
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"bench_device_weights: the runner failed on {variant.name} ({load_mode}): {last_line}")
    return json.loads(done.stdout)


def measure(runner: Path, variants: list[Variant], args: argparse.Namespace) -> dict[tuple[str, str], list[dict]]:
    """(variant name, load mode) -> the runner results of its launches, the launches interleaved."""
    results: dict[tuple[str, str], list[dict]] = {}
    for round_index in range(args.rounds):
        for load_mode in LOAD_MODES:
            for variant in variants:
                print(f"round {round_index + 1}/{args.rounds}: {variant.name}, {load_mode}", file=sys.stderr)
                results.setdefault((variant.name, load_mode), []).append(run_runner(runner, variant, load_mode, args))
    return results


def summary_row(name: str, load_mode: str, launches: list[dict], reference: list[dict]) -> str:
    timings = [launch["timing"] for launch in launches]
    load_ms = statistics.median(t["load_ms"] for t in timings)
    load_min_ms = min(t["load_ms"] for t in timings)
    first_ms = statistics.median(t["first_inference_ms"] for t in timings)
    steady_ms = statistics.median(ms for t in timings for ms in t["inference_ms"])
    peak_mb = statistics.median(launch["memory"]["vm_hwm_kb"] * 1024 / MB for launch in launches)
    preempted = sum(launch["interference"]["preempted_samples"] for launch in launches)
    samples = sum(len(t["inference_ms"]) for t in timings)
    same = {launch["output"]["checksum"] for launch in launches} == {reference[0]["output"]["checksum"]}
    return (f"{name:<16} {load_mode:<5} {load_ms:>8.1f} {load_min_ms:>8.1f} {first_ms:>8.1f} {steady_ms:>9.1f} "
            f"{peak_mb:>7.0f} {f'{preempted}/{samples}':>9} {'yes' if same else 'NO':>8}")


def print_report(variants: list[Variant], results: dict[tuple[str, str], list[dict]], shape: ModelShape,
                 args: argparse.Namespace) -> None:
    print(f"VGG-16, {shape.num_classes} classes, {shape.input_size} px, width divisor {shape.width_divisor}; client "
          f"cut after {SPLIT_POINT}; host runner on core {args.core}, 1 thread, {args.rounds} rounds x "
          f"{args.iterations} timed inferences (medians)")
    print(f"{'variant':<16} {'mode':<5} {'load_ms':>8} {'(min)':>8} {'first_ms':>8} {'steady_ms':>9} "
          f"{'peak_MB':>7} {'preempted':>9} {'same_out':>8}")
    for load_mode in LOAD_MODES:
        for variant in variants:
            embedded = variant.name.split()[0] + " embedded"
            print(summary_row(variant.name, load_mode, results[(variant.name, load_mode)],
                              results[(embedded, load_mode)]))
    print_disk(variants)


def print_disk(variants: list[Variant]) -> None:
    size = {variant.name: variant.program.stat().st_size for variant in variants}
    data = next(variant.data for variant in variants if variant.data)
    embedded = size["full embedded"] + size["client embedded"]
    shared = size["full shared"] + size["client shared"] + data.stat().st_size
    print(f"disk: full + client embedded {embedded / MB:.1f} MB "
          f"({size['full embedded'] / MB:.1f} + {size['client embedded'] / MB:.1f}); "
          f"programs + one shared data file {shared / MB:.1f} MB ({size['full shared'] / MB:.2f} + "
          f"{size['client shared'] / MB:.2f} + {data.stat().st_size / MB:.1f})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.runner.is_file():
        raise SystemExit(f"bench_device_weights: no runner at {args.runner}; build it with "
                         "bash android_app/build_host.sh")
    shape = ModelShape(num_classes=1000, input_size=args.input_size, width_divisor=args.width_divisor)
    with tempfile.TemporaryDirectory(prefix="bench-device-weights-") as scratch:
        folder = args.out or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        variants = export_variants(folder, shape)
        print_report(variants, measure(args.runner, variants, args), shape, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
