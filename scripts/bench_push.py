"""Measure push throughput over the loopback device: adb-shell (bench.adb.connection) and, if installed, Debian's adb.

python -m scripts.bench_push [--size-mb 100] [--repeats 3]
Prints one line per client with the best and median MB/s (1 MB = 10^6 bytes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.adb.connection import connect
from bench.adb.keys import ensure_key_pair
from bench.errors import BenchError
from loopback.device import LoopbackDevice
from scripts.adb_server import private_adb_server


@dataclass(frozen=True)
class ThroughputResult:
    client: str
    size_bytes: int
    seconds: list[float]

    @property
    def best_mb_per_s(self) -> float:
        return self.size_bytes / min(self.seconds) / 1e6

    @property
    def median_mb_per_s(self) -> float:
        return self.size_bytes / statistics.median(self.seconds) / 1e6


def measure_adb_shell(device: LoopbackDevice, payload: Path, key_path: Path, repeats: int) -> ThroughputResult:
    seconds = []
    with connect(device.serial, key_path=key_path) as connection:
        for attempt in range(repeats):
            started = time.perf_counter()
            connection.push(payload, f"/data/local/tmp/throughput-{attempt}.bin")
            seconds.append(time.perf_counter() - started)
            connection.check(["rm", f"/data/local/tmp/throughput-{attempt}.bin"])
    return ThroughputResult("adb-shell", payload.stat().st_size, seconds)


def measure_debian_adb(adb: str, device: LoopbackDevice, payload: Path, home: Path, repeats: int) -> ThroughputResult:
    with private_adb_server(adb, home) as env:

        def adb_run(*args: str) -> None:
            subprocess.run([adb, *args], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)

        adb_run("connect", device.serial)
        adb_run("-s", device.serial, "wait-for-device")
        seconds = []
        for attempt in range(repeats):
            started = time.perf_counter()
            adb_run("-s", device.serial, "push", str(payload), f"/data/local/tmp/throughput-{attempt}.bin")
            seconds.append(time.perf_counter() - started)
            adb_run("-s", device.serial, "shell", "rm", f"/data/local/tmp/throughput-{attempt}.bin")
        return ThroughputResult("debian-adb", payload.stat().st_size, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_push", description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100, help="size of the pushed file in MB (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="pushes per client (default 3)")
    args = parser.parse_args(argv)
    if args.size_mb <= 0 or args.repeats <= 0:
        print("error: --size-mb and --repeats must be positive", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="splitbench-throughput-") as scratch_dir:
        scratch = Path(scratch_dir)
        payload = scratch / "payload.bin"
        with payload.open("wb") as out:
            for _ in range(args.size_mb):
                out.write(os.urandom(1_000_000))
        home = scratch / "home"
        key_path = ensure_key_pair(home / ".android" / "adbkey")
        results = []
        try:
            with LoopbackDevice(scratch / "sandbox") as device:
                results.append(measure_adb_shell(device, payload, key_path, args.repeats))
                adb = shutil.which("adb")
                if adb is None:
                    print("debian-adb: skipped, `adb` not installed (sudo apt-get install -y adb)", file=sys.stderr)
                else:
                    results.append(measure_debian_adb(adb, device, payload, home, args.repeats))
        except (BenchError, subprocess.CalledProcessError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    for result in results:
        print(f"{result.client}: push {result.size_bytes / 1e6:.0f} MB over loopback: best {result.best_mb_per_s:.1f} MB/s, "
              f"median {result.median_mb_per_s:.1f} MB/s ({len(result.seconds)} pushes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
