"""The adb-server transport against the direct one, side by side in one run on the loopback device.

python -m scripts.bench_adb_server [--size-mb 64] [--repeats 3] [--launches 40] [--manifest M.json]

A private Debian adb server (its own port and HOME, stopped at the end) has the loopback device attached with
`adb connect`; the same device is also reached directly (adb-shell). Printed:
Each measurement round runs every client once, in turn, so that the load of a shared machine falls on all alike.
- push throughput (MB/s, 1 MB = 10^6 bytes): direct, server (bench.adb.transport.server), and `adb push`;
- per-launch overhead: the median time of a trivial shell command (`true`), the cost every launch pays on top
  of the program it starts (timed in blocks of 10 back to back): direct, server, and `adb shell true`;
- with --manifest (a small export), the wall time of a sweep of two loopback devices in parallel through the
  server (one command, --serial A,B) against each device's sweep alone, and device A's sweep on the direct path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.adb.connection import ServerAddress, connect
from bench.adb.device import Device
from bench.adb.keys import ensure_key_pair
from loopback.device import LoopbackDevice
from scripts.adb_server import private_adb_server

REPO = Path(__file__).resolve().parents[1]
LAUNCH_BLOCK = 10  # launches timed back to back per turn (a sweep's connection is seldom idle for long)
SWEEP_OPTIONS = ["--backends", "xnnpack", "--launches", "3",
                 "--iterations", "20", "--warmup", "1", "--cooldown-s", "0", "--cooldown-max-s", "0",
                 "--no-drop-caches", "--no-core-peak"]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleaved_medians(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each action, the actions taking turns round by round (after one warm-up round), so that
    the load of this shared machine falls on all of them alike."""
    for action in actions.values():
        action()
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            times[name].append(timed(action))
    return {name: statistics.median(values) for name, values in times.items()}


def adb_cli(executable: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([executable, *args], env=env, capture_output=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"`adb {' '.join(args)}` failed: {result.stderr.decode(errors='replace').strip()}")
    return result


def sweep_wall_s(serials: list[str], server: str, manifest: Path, out: Path, transport: str = "server") -> float:
    command = [sys.executable, "-m", "bench.run_device", "--serial", ",".join(serials), "--transport", transport,
               "--adb-server", server, "--manifest", str(manifest), "--out", str(out), *SWEEP_OPTIONS]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    wall_s = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the sweep of {serials} failed ({result.returncode}): {result.stderr[-2000:]}")
    return wall_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--launches", type=int, default=100)
    parser.add_argument("--manifest", type=Path, help="a small export's manifest.json: also time a two-device sweep")
    parser.add_argument("--adb", default="/usr/bin/adb")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-adb-server-") as temp:
        root = Path(temp)
        home = root / "home"
        key = ensure_key_pair(home / ".android" / "adbkey")
        payload = root / "payload.bin"
        payload.write_bytes(os.urandom(args.size_mb * 1_000_000))
        with LoopbackDevice(root / "sandbox-a") as device_a, LoopbackDevice(root / "sandbox-b") as device_b, \
                private_adb_server(args.adb, home) as env:
            port = int(env["ANDROID_ADB_SERVER_PORT"])
            address = ServerAddress("127.0.0.1", port)
            for device in (device_a, device_b):
                adb_cli(args.adb, env, "connect", device.serial)
                adb_cli(args.adb, env, "-s", device.serial, "wait-for-device")
            direct: Device = connect(device_a.serial, key_path=key, transport="direct")
            server: Device = connect(device_a.serial, transport="server", server=address)
            target = "/data/local/tmp/payload.bin"
            print(f"loopback device {device_a.serial}, adb server 127.0.0.1:{port} (Debian adb), "
                  f"{args.size_mb} MB payload, {args.repeats} pushes, {args.launches} launches each, "
                  f"the clients taking turns; medians")
            pushes = interleaved_medians({
                "direct (adb-shell)": lambda: direct.push(payload, target),
                "server (host protocol)": lambda: server.push(payload, target),
                "`adb push` (Debian adb)":
                    lambda: adb_cli(args.adb, env, "-s", device_a.serial, "push", str(payload), target),
            }, args.repeats)
            block = LAUNCH_BLOCK
            launches = {name: seconds * 1000 / block for name, seconds in interleaved_medians({
                "direct (adb-shell)": lambda: [direct.check(["true"]) for _ in range(block)],
                "server (host protocol)": lambda: [server.check(["true"]) for _ in range(block)],
                "`adb shell true` (Debian adb)":
                    lambda: [adb_cli(args.adb, env, "-s", device_a.serial, "shell", "true") for _ in range(block)],
            }, max(1, args.launches // block)).items()}
            direct.close()
            server.close()
            print(f"{'push throughput':<32}{'MB/s':>10}")
            for name, seconds in pushes.items():
                print(f"  {name:<30}{payload.stat().st_size / seconds / 1e6:>10.1f}")
            print(f"{'per-launch overhead':<32}{'ms':>10}")
            for name, ms in launches.items():
                print(f"  {name:<30}{ms:>10.2f}")
            ratio = launches["server (host protocol)"] / launches["direct (adb-shell)"]
            push_ratio = pushes["`adb push` (Debian adb)"] / pushes["server (host protocol)"]
            print(f"server/direct launch overhead: {ratio:.2f}x (goal <= 1.10); "
                  f"server push speed / `adb push` speed: {push_ratio:.2f}x (goal >= 1.00)")
            if args.manifest is not None:
                serials = [device_a.serial, device_b.serial]
                alone = [sweep_wall_s([serial], f"127.0.0.1:{port}", args.manifest, root / f"alone-{i}")
                         for i, serial in enumerate(serials)]
                both = sweep_wall_s(serials, f"127.0.0.1:{port}", args.manifest, root / "both")
                direct_alone = sweep_wall_s(serials[:1], f"127.0.0.1:{port}", args.manifest, root / "direct", "direct")
                print(f"sweep wall time ({' '.join(SWEEP_OPTIONS[:6])}): device A alone {alone[0]:.1f} s, "
                      f"device B alone {alone[1]:.1f} s, both in parallel {both:.1f} s "
                      f"({both / max(alone):.2f}x the longer one alone, {both / sum(alone):.2f}x both in turn); "
                      f"device A alone through the direct path {direct_alone:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
