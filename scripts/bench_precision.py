"""How sure the numbers are, and how far from the hardware: prints

1. the peak fp32 FMA rate of every core of this host, as the host runner measures it (`--measure-peak`), beside
   an independent reading, a single-threaded torch fp32 sgemm pinned to the same core (scripts/pinned_sgemm.py;
   a tuned GEMM reaches most of the FMA peak, so the peak should be above it and not far above it; a peak below
   it was disturbed);
2. with RESULTS folders (bench/run_device.py runs): per configuration and backend, the median inference time, its
   95 % interval and half-width, the CV, the share of preempted samples, the achieved GFLOP/s and its share of the
   measured peak of the core the run was pinned to.

Usage: .venv/bin/python -m scripts.bench_precision [results/<run_id> ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from analysis.errors import AnalysisError
from analysis.loading import load_results
from analysis.statistics import summarize
from analysis.tidy import build_tidy_tables
from formats.errors import FormatError
from formats.runner_result import find_core_peak
from scripts.pinned_sgemm import SgemmError, pinned_sgemm_gflops

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "android_app" / "build" / f"linux-{os.uname().machine}" / "bundle" / "splitbench_runner"


def core_peaks() -> list[dict]:
    peaks = []
    for core in sorted(os.sched_getaffinity(0)):
        done = subprocess.run([str(RUNNER), "--measure-peak", "--core", str(core)], capture_output=True, text=True,
                              timeout=300)
        peak = find_core_peak(done.stdout)
        if peak is None:
            raise SystemExit(f"bench_precision: the runner gave no peak for core {core} ({done.stderr.strip()[:200]}); "
                             "rebuild it with bash android_app/build_host.sh")
        peaks.append(peak)
    return peaks


def print_peaks(peaks: list[dict], sgemms: dict[int, float]) -> None:
    print("core  isa       peak GFLOP/s  median GFLOP/s  wall-based GFLOP/s  preempted repetitions"
          "  torch sgemm GFLOP/s  peak / sgemm")
    for peak in peaks:
        sgemm = sgemms[peak["core"]]
        print(f"{peak['core']:>4}  {peak['kernel']['isa']:<8}  {peak['peak_gflops']:>12.1f}  {peak['median_gflops']:>14.1f}"
              f"  {peak['peak_wall_gflops']:>18.1f}  {peak['preempted_repetitions']:>21}  {sgemm:>19.1f}"
              f"  {peak['peak_gflops'] / sgemm:>12.2f}")


def print_precision(results: list[Path]) -> None:
    tables = build_tidy_tables(load_results(results))
    summary = summarize(tables.samples, tables.launches).dropna(subset=["median_ms"])
    print("\nconfiguration      backend   n    median ms  95% interval (unit)          +-%    CV %  preempted %"
          "  GFLOP/s  % of peak")
    for row in summary.itertuples():
        interval = f"{row.median_ci_low_ms:.2f} - {row.median_ci_high_ms:.2f} ({row.median_ci_unit})"
        print(f"{row.configuration:<18} {row.backend:<8} {row.n_samples:>4} {row.median_ms:>11.2f}  {interval:<28}"
              f" {row.median_ci_half_width_pct:>5.2f}  {row.coefficient_of_variation * 100:>5.2f}"
              f"  {row.preempted_share * 100:>11.1f}  {row.achieved_gflop_per_s:>7.1f}  {row.peak_fraction * 100:>9.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", type=Path, help="results/<run_id> folders to summarise")
    args = parser.parse_args()
    if not RUNNER.is_file():
        print(f"bench_precision: no host runner at {RUNNER}; run bash scripts/setup.sh", file=sys.stderr)
        return 2
    peaks = core_peaks()
    try:
        sgemms = {peak["core"]: pinned_sgemm_gflops(peak["core"]) for peak in peaks}
    except SgemmError as error:
        print(f"bench_precision: {error}", file=sys.stderr)
        return 2
    print_peaks(peaks, sgemms)
    if args.results:
        try:
            print_precision(args.results)
        except (AnalysisError, FormatError) as error:
            print(f"bench_precision: {error}", file=sys.stderr)
            return 2
    print("\n" + json.dumps({"core_peaks_gflops": {peak["core"]: peak["peak_gflops"] for peak in peaks},
                             "torch_sgemm_gflops": sgemms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
