"""How `python -m analysis` scales with the timed inferences per launch.

Writes a synthetic run per size: the first --programs ok programs of tests/data/analysis/paper_like (4 by
default: full and three splits), each launched --launches times (3 by default: 12 launches in all, the shape of
the issue's "12 launches x 40,000 inferences") with SIZE timed inferences per launch (a log-normal spread around each program's time, a
shift per launch), then times `python -m analysis` on it (a fresh process, so imports are counted) and prints
the wall time per size and its ratio to the smallest size.

    .venv/bin/python scripts/bench_analysis_scaling.py [--sizes 60,1000,10000,40000,100000] [--repo OTHER_CHECKOUT]

--repo runs another checkout's analysis on the same files (a before/after comparison side by side).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "tests" / "data" / "analysis" / "paper_like"


def write_run(folder: Path, samples_per_launch: int, launches: int, programs: int = 4, seed: int = 0) -> int:
    """A run folder with `launches` ok launches of every program of the template; returns the row count."""
    rng = np.random.default_rng(seed)
    template = [json.loads(line) for line in (TEMPLATE / "results.jsonl").read_text().splitlines()]
    by_program: dict[str, dict] = {}
    for row in template:
        if row["status"] == "ok":
            by_program.setdefault(row["program_id"], row)
    folder.mkdir(parents=True)
    rows = 0
    with open(folder / "results.jsonl", "w") as out:
        for row in list(by_program.values())[:programs]:
            base_ms = float(np.median(row["runner"]["timing"]["inference_ms"]))
            for launch in range(launches):
                shift = 1.0 + 0.01 * rng.standard_normal()
                times = base_ms * shift * rng.lognormal(0.0, 0.05, samples_per_launch)
                runner = json.loads(json.dumps(row["runner"]))
                runner["timing"]["inference_ms"] = [round(float(value), 4) for value in times]
                runner["timing"].pop("inference_cpu_ms", None)
                new = {**row, "runner": runner, "launch_index": launch, "row_index": rows,
                       "launch_kind": "first" if launch == 0 else "warm"}
                out.write(json.dumps(new) + "\n")
                rows += 1
    (folder / "run.json").write_text((TEMPLATE / "run.json").read_text())
    return rows


def time_analysis(repo: Path, folder: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analysis", str(folder), "--out", str(out)], cwd=repo, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,1000,10000,40000,100000", help="timed inferences per launch")
    parser.add_argument("--programs", type=int, default=4, help="programs (at most the template's 9 ok ones)")
    parser.add_argument("--launches", type=int, default=3, help="launches per program")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose analysis to run")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"python -m analysis from {args.repo}: {args.programs} programs x {args.launches} launches "
          "(a loaded shared VM: compare ratios measured in one run)")
    print(f"{'samples/launch':>15} {'samples':>10} {'wall s':>8} {'x smallest':>11}")
    first = None
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            folder = Path(scratch) / f"run{size}"
            rows = write_run(folder, size, args.launches, args.programs)
            wall_s = time_analysis(args.repo, folder, Path(scratch) / f"report{size}")
            first = first or wall_s
            print(f"{size:>15} {rows * size:>10} {wall_s:>8.2f} {wall_s / first:>11.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
