"""Harness overhead of a sweep: wall time of the whole sweep against the time the runner
itself measured (load + first inference + warm-up + timed inferences), plus push and
sha256-check times of the deploy.

Runs the sweep twice on the same device: the first deploy pushes everything, the second
finds every file in place and only checks hashes.

    python -m scripts.bench_sweep --manifest artifacts/export/manifest.json [--serial loopback] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.adb.connection import connect
from bench.adb.reconnect import DeviceLink
from bench.adb.serials import LOOPBACK_SERIAL
from bench.errors import BenchError
from bench.sweep.run import RunReport, RunRequest, execute_run, open_run
from bench.sweep.settings import SweepConfig


def runner_measured_ms(row: dict) -> float:
    """What the runner timed inside one launch (0 for rows without runner timing)."""
    timing = (row.get("runner") or {}).get("timing") or {}
    parts = [timing.get("load_ms"), timing.get("first_inference_ms")]
    parts += list(timing.get("warmup_ms") or []) + list(timing.get("inference_ms") or [])
    return sum(part for part in parts if part is not None)


@contextlib.contextmanager
def device_serial(serial_spec: str):
    """A fixed serial, or a loopback device whose sandbox outlives both sweeps."""
    if serial_spec != LOOPBACK_SERIAL:
        yield serial_spec
        return
    from loopback import LoopbackDevice

    with tempfile.TemporaryDirectory(prefix="splitbench-bench-sweep-") as sandbox:
        with LoopbackDevice(sandbox) as device:
            yield device.serial


def timed_sweep(serial: str, request: RunRequest) -> tuple[RunReport, float]:
    started = time.perf_counter()
    opened = open_run(request)
    link = DeviceLink(lambda: connect(serial), attempts=opened.config.reconnect_attempts,
                      backoff_s=opened.config.reconnect_backoff_s)
    try:
        report = execute_run(opened, request, link)
    finally:
        link.close()
    return report, time.perf_counter() - started


def print_sweep(label: str, report: RunReport, wall_s: float) -> None:
    rows = [json.loads(line) for line in (report.folder / "results.jsonl").read_text().splitlines()]
    measured_s = sum(runner_measured_ms(row) for row in rows) / 1000.0
    launches_s = sum(row["wall_s"] for row in rows)
    print(f"{label}: {len(rows)} launches, statuses {dict(report.summary.statuses)}")
    print(f"  sweep wall time           {wall_s:9.3f} s")
    print(f"  runner-measured time      {measured_s:9.3f} s  (load + first + warm-up + timed inferences)")
    overhead_s = wall_s - measured_s
    print(f"  harness overhead          {overhead_s:9.3f} s  ({overhead_s / len(rows) * 1000:.1f} ms per launch)")
    print(f"  launch round trips        {launches_s:9.3f} s  (process start, env reads, adb transport included)")
    print(f"  deploy push               {report.deploy.push_s:9.3f} s  ({report.deploy.files_pushed} files, "
          f"{report.deploy.bytes_pushed / 1e6:.1f} MB)")
    print(f"  deploy sha256 checks      {report.deploy.hash_check_s:9.3f} s  ({report.deploy.files_checked} files)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--serial", default=LOOPBACK_SERIAL)
    parser.add_argument("--out", type=Path, help="results folder (default: a temporary folder)")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--launches", type=int, default=2)
    parser.add_argument("--backends", default="xnnpack")
    args = parser.parse_args(argv)
    config = SweepConfig(iterations=args.iterations, launches=args.launches, cooldown_s=0, cooldown_max_s=0,
                         backends=tuple(args.backends.split(",")), drop_caches=False)
    try:
        with contextlib.ExitStack() as stack:
            out = args.out or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="splitbench-results-")))
            serial = stack.enter_context(device_serial(args.serial))
            for label in ("first sweep (fresh device)", "second sweep (files already on the device)"):
                request = RunRequest(serial_spec=args.serial, results_dir=out, manifest_path=args.manifest,
                                     config=config)
                report, wall_s = timed_sweep(serial, request)
                print_sweep(label, report, wall_s)
                time.sleep(1.0)  # run ids have one-second resolution
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
