"""The link to the device measured over its adb transport: push throughput (a file of random bytes pushed a
few times) and round trip (a shell command that does nothing, run and waited for)."""

from __future__ import annotations

import os
import posixpath
import shlex
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.adb.scripts import run_script
from formats.link_measurement import LinkMeasurement
from formats.run_folder import utc_now_text

ROUND_TRIP_COMMAND = "true"
TRANSPORT = "adb over TCP (adb-shell client, sync push; shell service for the round trip)"


@dataclass(frozen=True)
class LinkProbeSettings:
    payload_bytes: int = 4 * 1024 * 1024
    push_repeats: int = 3
    round_trips: int = 10

    def __post_init__(self):
        if self.payload_bytes < 1 or self.push_repeats < 1 or self.round_trips < 1:
            raise ValueError("link probe: payload, pushes and round trips must be at least 1")


def measure_link(connection, device_dir: str, run_id: str, serial_spec: str,
                 settings: LinkProbeSettings = LinkProbeSettings(), clock=time.perf_counter) -> LinkMeasurement:
    """Push `payload_bytes` of random bytes `push_repeats` times and run `true` `round_trips` times."""
    device_path = posixpath.join(device_dir, "link_probe.bin")
    run_script(connection, f"mkdir -p {shlex.quote(device_dir)}", timeout_s=60)
    push_times = []
    with tempfile.TemporaryDirectory(prefix="splitbench-link-") as folder:
        payload = Path(folder) / "payload.bin"
        payload.write_bytes(os.urandom(settings.payload_bytes))
        for _ in range(settings.push_repeats):
            started = clock()
            connection.push(str(payload), device_path)
            push_times.append(clock() - started)
    run_script(connection, f"rm -f {shlex.quote(device_path)}", timeout_s=60)
    round_trips = []
    for _ in range(settings.round_trips):
        started = clock()
        connection.shell([ROUND_TRIP_COMMAND], timeout_s=60)
        round_trips.append((clock() - started) * 1e3)
    push_median_s = statistics.median(push_times)
    return LinkMeasurement(
        run_id=run_id, serial_spec=serial_spec, transport=TRANSPORT, measured_utc=utc_now_text(),
        push_payload_bytes=settings.payload_bytes, push_times_s=[round(t, 6) for t in push_times],
        push_median_s=round(push_median_s, 6),
        push_throughput_bytes_per_s=round(settings.payload_bytes / max(push_median_s, 1e-9), 1),
        round_trip_command=ROUND_TRIP_COMMAND, round_trip_times_ms=[round(t, 4) for t in round_trips],
        round_trip_median_ms=round(statistics.median(round_trips), 4),
    )
