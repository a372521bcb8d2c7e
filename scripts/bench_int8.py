"""fp32 against int8 per architecture, at full size, on one pinned core with the host runner.

For each --arch: exports the full model and the client at the architecture's deepest default split point as
`xnnpack` (fp32) and `xnnpack_int8` programs (random seeded weights, synthetic calibration and held-out images),
then runs every program with android_app's host runner pinned to --core (one thread) and prints one table: file
size, load time, median steady inference, peak RSS (VmHWM), and the int8 program's accuracy figures against fp32.
The int8 lowering's delegation summary (which operators XNNPACK did not take) is printed on stderr.
With --operators, every fp32/int8 pair is run once more with an ETDump, and XNNPACK's own operators are summed
per kind (datatype and instance number left out): where int8 gains and where it does not, measured.

Usage: .venv/bin/python scripts/bench_int8.py [--arch resnet18,mobilenet_v2] [--core 0] [--iterations 20]
           [--input-size 224] [--calibration-count 32] [--accuracy-count 16] [--work-dir DIR] [--keep]
           [--operators]
(from a git worktree whose .venv is another checkout's, prefix PYTHONPATH=$PWD so `export` is this one's)
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cloud.errors import CloudStageError
from bench.cloud.layer_profile import profile_events
from export.architectures import get_architecture
from export.config import ExportConfig, parse_name_list
from export.errors import ExportError
from export.events import PROGRAM_DELEGATION, ExportEvent
from export.pipeline import MANIFEST_NAME, run_export
from formats.manifest import ProgramEntry, load_manifest, program_file

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "android_app" / "build" / f"linux-{platform.machine()}" / "bundle" / "splitbench_runner"
MB = 1e6


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18,mobilenet_v2", help="architectures (default %(default)s)")
    parser.add_argument("--model", help="a --model MODULE:CALLABLE instead of --arch (e.g. "
                                        "export.trained:efficientnet_lite0: calibrated on the calibration photos, "
                                        "measured on the evaluation photos)")
    parser.add_argument("--split", help="the client's split point (default: the architecture's deepest default; "
                                        "required with --model)")
    parser.add_argument("--core", type=int, default=0, help="core the runner is pinned to (default 0)")
    parser.add_argument("--iterations", type=int, default=20, help="timed inferences per program (default 20)")
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--calibration-count", type=int, default=32)
    parser.add_argument("--accuracy-count", type=int, default=16)
    parser.add_argument("--work-dir", type=Path, help="parent of the export folders (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the exported programs and print their folder")
    parser.add_argument("--operators", action="store_true",
                        help="also time XNNPACK's operators per kind (ETDump), fp32 beside int8")
    return parser.parse_args(argv)


def run_runner(path: Path, core: int, iterations: int, *extra: str) -> dict:
    completed = subprocess.run([str(RUNNER), "--model", str(path), "--iterations", str(iterations), "--warmup", "1",
                                "--core", str(core), "--threads", "1", *extra], capture_output=True, text=True,
                               timeout=1800)
    if completed.returncode != 0:
        raise RuntimeError(f"runner failed on {path.name}: {completed.stdout[-400:]} {completed.stderr[-400:]}")
    return json.loads(completed.stdout)


def export_arch(arch: str, args: argparse.Namespace, folder: Path) -> Path:
    if args.model:
        if not args.split:
            raise ExportError("--model needs --split NAME (`python -m export --model ... --splits list` lists them)")
        config = ExportConfig(out_dir=folder, model_factory=args.model, num_classes=None, input_size=args.input_size,
                              splits=(args.split,), include_reduced=False, backends=("xnnpack", "xnnpack_int8"),
                              cloud_backends=(), calibration_photos=True, calibration_count=args.calibration_count,
                              accuracy_count=args.accuracy_count)
    else:
        split = args.split or get_architecture(arch).default_splits[-1]
        config = ExportConfig(out_dir=folder, arch=arch, input_size=args.input_size, splits=(split,),
                              include_reduced=False, backends=("xnnpack", "xnnpack_int8"), cloud_backends=(),
                              calibration_count=args.calibration_count, accuracy_count=args.accuracy_count)
    started = time.perf_counter()

    def report(event: ExportEvent) -> None:
        prefix = f"[{arch} {time.perf_counter() - started:7.1f} s] {event.kind}: {event.name}"
        if event.kind == PROGRAM_DELEGATION:
            print(f"{prefix}\n  {event.detail}", file=sys.stderr, flush=True)
        else:
            print(f"{prefix} {event.detail}", file=sys.stderr, flush=True)

    run_export(config, on_event=report)
    return folder / MANIFEST_NAME


def row(arch: str, entry: ProgramEntry, result: dict) -> str:
    timing, memory = result["timing"], result["memory"]
    accuracy = entry.accuracy
    figures = "" if accuracy is None else (
        f"{accuracy.cosine_similarity_mean:>8.4f} {accuracy.relative_error:>7.4f} "
        + (f"{accuracy.top1_agreement:>6.3f}" if accuracy.top1_agreement is not None else f"{'-':>6}"))
    return (f"{arch:<14} {entry.id:<28} {entry.size_bytes / MB:>8.2f} {timing['load_ms']:>8.1f} "
            f"{statistics.median(timing['inference_ms']):>9.2f} {memory['vm_hwm_kb'] / 1024:>8.1f} {figures}")


def operator_kind(event_name: str) -> str:
    """XNNPACK's operator name without its datatype and instance: 'Convolution (NHWC, QC8) DWConv #3' ->
    'Convolution DWConv'."""
    return " ".join(re.sub(r"\([^)]*\)|#\d+", " ", event_name).split())


def operator_times(program: Path, core: int, iterations: int) -> dict[str, float]:
    """Per XNNPACK operator kind, the sum of its operators' median times (ms) over `iterations` traced runs."""
    etdump = program.with_suffix(".etdp")
    run_runner(program, core, iterations, "--etdump", str(etdump))
    totals: dict[str, float] = {}
    for event in profile_events(etdump):
        if event.kind == "delegate_operator":
            kind = operator_kind(event.name)
            totals[kind] = totals.get(kind, 0.0) + event.median_ms
    return totals


def _ms(value: float | None) -> str:
    return f"{value:>9.3f}" if value is not None else f"{'-':>9}"


def operator_lines(arch: str, fp32: ProgramEntry, programs: list[ProgramEntry], manifest_path: Path, core: int,
                   iterations: int) -> list[str]:
    """fp32 beside int8 per operator kind, for `fp32` and its int8 twin among `programs` (same configuration)."""
    int8 = next(entry for entry in programs
                if entry.configuration == fp32.configuration and entry.backend == "xnnpack_int8")
    fp32_times, int8_times = (operator_times(program_file(manifest_path, entry), core, iterations)
                              for entry in (fp32, int8))
    kinds = sorted(set(fp32_times) | set(int8_times),
                   key=lambda kind: -max(fp32_times.get(kind, 0.0), int8_times.get(kind, 0.0)))
    rows = [(kind, fp32_times.get(kind), int8_times.get(kind)) for kind in kinds]
    rows.append(("(all)", sum(fp32_times.values()), sum(int8_times.values())))
    lines = [f"\n{arch} {fp32.configuration}: XNNPACK operators per kind (sum of medians, ms)",
             f"{'operator kind':<36} {'fp32_ms':>9} {'int8_ms':>9} {'fp32/int8':>9}"]
    for kind, a, b in rows:
        ratio = f"{a / b:>9.2f}" if a and b else f"{'-':>9}"
        lines.append(f"{kind:<36} {_ms(a)} {_ms(b)} {ratio}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not RUNNER.is_file():
        print(f"bench_int8: error: no host runner at {RUNNER}; build it with "
              "`SPLITBENCH_VENV=$PWD/.venv bash android_app/build_host.sh`", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="bench_int8_", dir=args.work_dir))
    lines = [f"{'arch':<14} {'program':<28} {'size_MB':>8} {'load_ms':>8} {'median_ms':>9} {'hwm_MB':>8} "
             f"{'cos_mean':>8} {'rel_err':>7} {'top1':>6}"]
    operators: list[str] = []
    try:
        for arch in [args.model.rsplit(":", 1)[-1]] if args.model else parse_name_list(args.arch, "--arch"):
            manifest_path = export_arch(arch, args, folder / arch)
            programs = load_manifest(manifest_path).programs
            for entry in programs:
                result = run_runner(program_file(manifest_path, entry), args.core, args.iterations)
                lines.append(row(arch, entry, result))
                print(lines[-1], file=sys.stderr, flush=True)
                if args.operators and entry.backend == "xnnpack":
                    operators += operator_lines(arch, entry, programs, manifest_path, args.core, args.iterations)
    except (ExportError, RuntimeError, CloudStageError) as error:
        print(f"bench_int8: error: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"programs kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"host {platform.machine()}, core {args.core}, 1 thread, input {args.input_size}px, "
          f"{args.iterations} timed inferences (median); accuracy: int8 vs fp32 eager on "
          + ("the evaluation photos (top-1 vs the fp32 model on real photos)" if args.model else
             f"{args.accuracy_count} held-out synthetic images, random weights (numerics, not task accuracy)"))
    print("\n".join(lines + operators))
    return 0


if __name__ == "__main__":
    sys.exit(main())
