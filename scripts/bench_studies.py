"""Benchmark of the two studies end to end: disk, stage times, and wall time over runner-measured time.

Runs `bash scripts/reproduce.sh` and then `bash scripts/split_study.sh` (the split study after the reproduction,
as a user would, so that it may reuse the reproduction's programs) with their exports under a fresh artifacts
folder, times every stage from the scripts' own `== i/n stage` lines, and prints one table:

    .venv/bin/python -m scripts.bench_studies --artifacts artifacts/bench [--studies reproduce,split_study]
        [--width-divisor 8 --input-size 64] [-- sweep options for both, e.g. --iterations 5 --launches 1]

Columns: the disk its export folder holds on its own (`export_GB`, each inode counted once), the disk the whole
artifacts folder holds after the study (`artifacts_GB`), the stage times (export, sweep, cloud stage, analysis),
the study's wall time, the runner-measured time (the sum of `wall_s` of every sweep launch in results.jsonl plus
the cloud stage's device launches in cloud.jsonl), and wall over runner-measured. Heavy at full size (about 20
minutes per study on one core); pass --width-divisor/--input-size for a quick comparison.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGE_LINE = re.compile(r"^== \d+/\d+ (.*)$")
STAGE_COLUMNS = {"export": "export_s", "sweep": "sweep_s", "cloud stage": "cloud_s", "analysis": "analysis_s"}
STUDIES = ("reproduce", "split_study")
GB = 1e9


@dataclass
class StudyTiming:
    name: str
    wall_s: float = 0.0
    stages_s: dict[str, float] = field(default_factory=dict)
    runner_s: float = 0.0
    export_bytes: int = 0
    artifacts_bytes: int = 0
    exit_code: int = 0


def disk_bytes(root: Path) -> int:
    """Bytes of the files under `root`, each inode once (hard links are one file on disk)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            status = os.lstat(os.path.join(folder, name))
            if (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                total += status.st_blocks * 512
    return total


def run_folders(results_root: Path) -> set[Path]:
    return {path.parent for path in results_root.glob("*/*/results.jsonl")}


def runner_seconds(run_folder: Path) -> float:
    """Sum of every sweep launch's wall_s, plus the cloud stage's device launches."""
    total = 0.0
    for name, pick in (("results.jsonl", lambda row: row.get("wall_s")),
                       ("cloud.jsonl", lambda row: (row.get("device") or {}).get("wall_s"))):
        path = run_folder / name
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            try:
                value = pick(json.loads(line))
            except (ValueError, AttributeError):
                continue
            if isinstance(value, (int, float)):
                total += float(value)
    return total


def run_study(name: str, script_args: list[str], env: dict[str, str], export_dir: Path,
              artifacts: Path) -> StudyTiming:
    timing = StudyTiming(name)
    before = run_folders(REPO / "results")
    started = time.perf_counter()
    stage, stage_started = None, started
    process = subprocess.Popen(["bash", f"scripts/{name}.sh", *script_args], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert process.stdout is not None
    for line in process.stdout:
        sys.stderr.write(f"[{name}] {line}")
        match = STAGE_LINE.match(line)
        if match:
            now = time.perf_counter()
            if stage is not None:
                timing.stages_s[stage] = timing.stages_s.get(stage, 0.0) + now - stage_started
            label = match.group(1)
            stage = next((name for name in STAGE_COLUMNS if label.startswith(name)), label.split(":")[0])
            stage_started = now
    timing.exit_code = process.wait()
    ended = time.perf_counter()
    if stage is not None:
        timing.stages_s[stage] = timing.stages_s.get(stage, 0.0) + ended - stage_started
    timing.wall_s = ended - started
    timing.runner_s = sum(runner_seconds(folder) for folder in run_folders(REPO / "results") - before)
    timing.export_bytes = disk_bytes(export_dir) if export_dir.exists() else 0
    timing.artifacts_bytes = disk_bytes(artifacts)
    return timing


def print_table(rows: list[StudyTiming]) -> None:
    header = (f"{'study':<12} {'export_GB':>9} {'artifacts_GB':>12} " + " ".join(f"{c:>10}" for c in
              STAGE_COLUMNS.values()) + f" {'wall_s':>8} {'runner_s':>9} {'wall/runner':>11} {'exit':>4}")
    print(header)
    for row in rows:
        stages = " ".join(f"{row.stages_s.get(stage, 0.0):>10.1f}" for stage in STAGE_COLUMNS)
        ratio = f"{row.wall_s / row.runner_s:>11.2f}" if row.runner_s > 0 else f"{'-':>11}"
        print(f"{row.name:<12} {row.export_bytes / GB:>9.2f} {row.artifacts_bytes / GB:>12.2f} {stages} "
              f"{row.wall_s:>8.1f} {row.runner_s:>9.1f} {ratio} {row.exit_code:>4}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=Path, required=True,
                        help="artifacts folder for this benchmark (must be absent or empty)")
    parser.add_argument("--studies", default=",".join(STUDIES), help="which studies, in order (default: both)")
    parser.add_argument("--width-divisor", type=int, default=1)
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--serial", default="loopback")
    args = parser.parse_args(own)
    studies = [name.strip() for name in args.studies.split(",") if name.strip()]
    unknown = [name for name in studies if name not in STUDIES]
    if unknown:
        print(f"bench_studies: error: unknown study {unknown[0]!r}; choose from {', '.join(STUDIES)}",
              file=sys.stderr)
        return 2
    artifacts = args.artifacts.resolve()
    if artifacts.exists() and any(artifacts.iterdir()):
        print(f"bench_studies: error: {artifacts} is not empty; pass a fresh --artifacts folder", file=sys.stderr)
        return 2
    artifacts.mkdir(parents=True, exist_ok=True)
    export_dirs = {"reproduce": artifacts / "export", "split_study": artifacts / "split_study"}
    env = {**os.environ, "SPLITBENCH_EXPORT_DIR": str(export_dirs["reproduce"]),
           "SPLITBENCH_SPLIT_EXPORT_DIR": str(export_dirs["split_study"]),
           "SPLITBENCH_PROGRAM_STORE": str(artifacts / "programs")}
    size_args = ["--width-divisor", str(args.width_divisor), "--input-size", str(args.input_size)]
    rows = []
    for name in studies:
        rows.append(run_study(name, ["--serial", args.serial, *size_args, *passthrough], env, export_dirs[name],
                              artifacts))
    print(f"studies at width divisor {args.width_divisor}, input {args.input_size} px, on {args.serial}; "
          f"sweep options: {' '.join(passthrough) or '(defaults)'}")
    print_table(rows)
    return max(row.exit_code for row in rows)


if __name__ == "__main__":
    sys.exit(main())
