"""Interference caught per inference: a launch that shares its core with a busy process reports preempted
samples and more wall-minus-CPU time than a launch on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runner_helpers import allowed_core, run_runner

from analysis.tidy import preempted_sample
from formats.runner_result import RUNNER_RESULT_VERSIONS
from stats.confidence import median_interval

ITERATIONS = 150  # about 0.3 s of a 2 ms program: many scheduler slices


def recount_preempted(result: dict) -> tuple[int, float]:
    """Preempted samples and their wall-minus-CPU total, recomputed from the raw arrays and the stated margin."""
    margin = result["interference"]["preempted_margin"]
    count, excess = 0, 0.0
    for wall, cpu in zip(result["timing"]["inference_ms"], result["timing"]["inference_cpu_ms"]):
        if wall - cpu > max(margin["fraction_of_wall"] * wall, margin["floor_ms"]):
            count += 1
            excess += wall - cpu
    return count, excess


SPINNER = """
import os, sys
os.sched_setaffinity(0, {int(sys.argv[1])})
try:
    os.nice(-10)  # a heavier scheduler weight than the runner's where allowed (root)
except PermissionError:
    pass
print("spinning", flush=True)
while True:
    pass
"""


def busy_loops_on(core: int, count: int = 2) -> list[subprocess.Popen]:
    """`count` Python processes spinning on `core` until killed; returns once they all run there.

    The machine may be busy with other work too, so the disturbance is made much larger than that: two
    spinners, each with a heavier weight than the runner where the test may raise it."""
    spinners = []
    for _ in range(count):
        spinner = subprocess.Popen([sys.executable, "-c", SPINNER, str(core)], stdout=subprocess.PIPE, text=True)
        spinners.append(spinner)
        assert spinner.stdout.readline().strip() == "spinning"
    return spinners


def test_disturbed_launch_reports_preempted_samples(runner, convstack):
    """Undisturbed launches before and after the disturbed one: the machine may run other work too, so the
    disturbed launch is compared with the quieter of the two."""
    core = allowed_core()
    args = ("--model", convstack, "--core", core, "--iterations", ITERATIONS, "--warmup", 3)
    before, done = run_runner(runner, *args)
    assert done.returncode == 0, done.stderr

    spinners = busy_loops_on(core)
    try:
        time.sleep(0.2)  # let the spinners settle into their scheduler share
        disturbed, done = run_runner(runner, *args)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert done.returncode == 0, done.stderr
    after, done = run_runner(runner, *args)
    assert done.returncode == 0, done.stderr

    for result in (before, disturbed, after):
        assert result["schema_version"] == RUNNER_RESULT_VERSIONS[-1] and result["status"] == "ok"
        assert result["affinity"]["cpus_observed"] == [core]
        interference = result["interference"]
        assert (interference["preempted_samples"], interference["preempted_wall_minus_cpu_ms"]) == \
            pytest.approx(recount_preempted(result))
    quiet = min((before, after), key=lambda result: result["interference"]["wall_minus_cpu_total_ms"])
    d, q = disturbed["interference"], quiet["interference"]
    assert d["preempted_samples"] > 0
    assert d["wall_minus_cpu_total_ms"] > q["wall_minus_cpu_total_ms"]
    assert d["preempted_wall_minus_cpu_ms"] > q["preempted_wall_minus_cpu_ms"]
    # The spinners took the core away involuntarily.
    assert d["involuntary_switches_total"] > 0 and d["samples_with_switches"] > 0
    # ... and the analysis flags it: its preempted share and the width of its median's interval exceed the quiet one's.
    tidy = {name: [preempted_sample(wall, cpu, result["interference"]["preempted_margin"])
                   for wall, cpu in zip(result["timing"]["inference_ms"], result["timing"]["inference_cpu_ms"])]
            for name, result in (("disturbed", disturbed), ("quiet", quiet))}
    assert sum(tidy["disturbed"]) == d["preempted_samples"] and sum(tidy["disturbed"]) > sum(tidy["quiet"])
    disturbed_interval = median_interval([disturbed["timing"]["inference_ms"]])
    quiet_interval = median_interval([quiet["timing"]["inference_ms"]])
    assert disturbed_interval.half_width_ms > quiet_interval.half_width_ms


def test_per_sample_arrays_and_margin_are_reported(runner, convstack):
    core = allowed_core()
    result, done = run_runner(runner, "--model", convstack, "--core", core, "--iterations", 12)
    assert done.returncode == 0, done.stderr
    timing, interference = result["timing"], result["interference"]
    assert len(timing["inference_ms"]) == len(timing["inference_cpu_ms"]) == 12
    assert len(interference["involuntary_switches"]) == 12
    assert all(isinstance(n, int) and n >= 0 for n in interference["involuntary_switches"])
    assert sum(interference["involuntary_switches"]) == interference["involuntary_switches_total"]
    # The CPU time span encloses the wall time span, widened only by the clock reads themselves.
    assert all(0 < cpu <= wall + 0.05 for wall, cpu in zip(timing["inference_ms"], timing["inference_cpu_ms"]))
    assert interference["wall_minus_cpu_total_ms"] == pytest.approx(
        sum(timing["inference_ms"]) - sum(timing["inference_cpu_ms"]), abs=1e-6)
    assert interference["preempted_margin"] == {"fraction_of_wall": 0.02, "floor_ms": 0.2}
    assert (interference["preempted_samples"], interference["preempted_wall_minus_cpu_ms"]) == \
        pytest.approx(recount_preempted(result))
    assert timing["traced"] is False
    # The frequency of the pinned core: null exactly where cpufreq is not readable (as in this VM).
    freq_file = Path(f"/sys/devices/system/cpu/cpu{core}/cpufreq/scaling_cur_freq")
    assert interference["frequency_core"] == core
    for key in ("core_freq_before_khz", "core_freq_after_khz"):
        if os.access(freq_file, os.R_OK):
            assert isinstance(interference[key], int) and interference[key] > 0
        else:
            assert interference[key] is None
