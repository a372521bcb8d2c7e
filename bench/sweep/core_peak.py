"""The pinned core's peak fp32 FMA rate, measured once per sweep by the deployed runner (`--measure-peak`).

The report divides each program's achieved GFLOP/s by it: how far from the hardware a backend runs.
A runner that cannot measure it (an older build) leaves it unmeasured; the sweep goes on.
"""

from __future__ import annotations

from bench.adb.scripts import ShellConnection, run_script
from bench.sweep.deploy import DeviceRunner
from formats.runner_result import check_core_peak, find_core_peak

PEAK_TIMEOUT_S = 120


def measure_core_peak(connection: ShellConnection, runner: DeviceRunner, core: int) -> dict | None:
    """The runner's splitbench.core_peak object for `core`, or None when it gave none or failed."""
    result = run_script(connection, f"{runner.command('--measure-peak', '--core', str(core))} 2>/dev/null",
                        timeout_s=PEAK_TIMEOUT_S)
    peak = find_core_peak(result.output)
    if peak is None or peak.get("status") != "ok":
        return None
    check_core_peak(peak, "the runner's --measure-peak output")
    return peak
