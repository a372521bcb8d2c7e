"""--measure-peak: the peak fp32 FMA throughput of the pinned core, reported with the work and the times it
follows from, within a stated band of an independent measurement (a single-threaded torch fp32 sgemm pinned to
the same core, scripts/pinned_sgemm.py), and the kernel choice by the CPU's flags. scripts/bench_precision.py
prints both numbers."""

from __future__ import annotations

import shutil
import statistics
import subprocess
from pathlib import Path

import pytest
from runner_builds import APP
from runner_helpers import allowed_core, run_runner

from formats.runner_result import RUNNER_RESULT_VERSIONS
from scripts.pinned_sgemm import pinned_sgemm_gflops

# The band: a tuned sgemm runs on the same FMA units, so it cannot beat their peak, and it reaches well over a
# third of it (about 0.9 on this host).
PEAK_OVER_SGEMM_BAND = (1.0, 3.0)
# Both are best-of measurements and a neighbour on a shared machine can only slow them: measured again, in
# alternation, until the band holds or this many rounds are spent; the band is asserted on the best of each.
ROUNDS = 3


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def expected_isa() -> str:
    import platform

    flags = cpu_flags()
    if platform.machine() == "aarch64":
        return "neon"
    if "avx512f" in flags:
        return "avx512f"
    if {"avx2", "fma"} <= flags:
        return "avx2_fma"
    return "sse2"


def test_peak_rates_follow_from_the_work_and_the_times(runner):
    core = allowed_core()
    peak, done = run_runner(runner, "--measure-peak", "--core", core)
    assert done.returncode == 0, done.stderr
    assert peak["schema"] == "splitbench.core_peak" and peak["schema_version"] == 1
    assert peak["status"] == "ok" and peak["error_kind"] is None
    assert peak["core"] == core and peak["requested_isa"] == "auto"
    assert peak["affinity"] == {"requested_core": core, "cpus_allowed_list": str(core), "cpus_observed": [core]}
    kernel = peak["kernel"]
    assert kernel["isa"] == expected_isa() and kernel["isa"] in peak["isas_supported"]
    assert kernel["fp32_lanes"] * 32 == kernel["vector_bits"] and kernel["flops_per_lane_op"] == 2
    assert 12 <= kernel["accumulators"] <= 24
    assert peak["repetitions"] == len(peak["repetition_ms"]) == len(peak["repetition_cpu_ms"])
    # At least 10 repetitions, then more until the best two agree within 1 % (or 100 are spent).
    assert 10 <= peak["repetitions"] <= 100
    # The reported rates follow from the work and the times.
    gflop = 2 * peak["lane_ops_per_repetition"] / 1e9
    rates = [gflop / (cpu / 1e3) for cpu in peak["repetition_cpu_ms"]]
    assert peak["repetition_gflops"] == pytest.approx(rates)
    assert peak["peak_gflops"] == pytest.approx(max(rates)) and peak["rate_basis"] == "thread_cpu_time"
    assert peak["peak_wall_gflops"] == pytest.approx(max(gflop / (wall / 1e3) for wall in peak["repetition_ms"]))

    assert peak["median_gflops"] == pytest.approx(statistics.median(rates))
    best, second = sorted(rates)[-2:][::-1]
    assert second >= 0.99 * best or peak["repetitions"] == 100
    if peak["repetitions"] > 10:
        earlier = sorted(rates[:-1])[-2:][::-1]
        assert earlier[1] < 0.99 * earlier[0]  # it went on only while the best two disagreed
    # CPU time spans sit inside the wall time spans, widened only by the clock reads and the two clocks' drift.
    assert all(0 < cpu <= wall * 1.001 + 0.05 for wall, cpu in zip(peak["repetition_ms"], peak["repetition_cpu_ms"]))
    margin = peak["preempted_margin"]
    assert peak["preempted_repetitions"] == sum(
        wall - cpu > max(margin["fraction_of_wall"] * wall, margin["floor_ms"])
        for wall, cpu in zip(peak["repetition_ms"], peak["repetition_cpu_ms"]))


def test_peak_is_within_a_stated_band_of_a_pinned_single_threaded_sgemm(runner):
    core = allowed_core()
    low, high = PEAK_OVER_SGEMM_BAND
    peaks, sgemms = [], []
    for _ in range(ROUNDS):
        peak, done = run_runner(runner, "--measure-peak", "--core", core)
        assert done.returncode == 0, done.stderr
        peaks.append(peak["peak_gflops"])
        sgemms.append(pinned_sgemm_gflops(core))
        if low * max(sgemms) <= max(peaks) <= high * max(sgemms):
            break
    print(f"core {core}: peak {max(peaks):.1f} GFLOP/s, torch sgemm {max(sgemms):.1f} GFLOP/s "
          f"(rounds: peaks {[round(p, 1) for p in peaks]}, sgemms {[round(s, 1) for s in sgemms]})")
    assert low * max(sgemms) <= max(peaks) <= high * max(sgemms)


def test_every_supported_kernel_runs_when_asked_for(runner):
    caps, done = run_runner(runner, "--version")
    assert done.returncode == 0
    assert caps["core_peak_schema_version"] == 1 and caps["runner_result_schema_version"] == RUNNER_RESULT_VERSIONS[-1]
    assert caps["peak_kernel_isas"][-1] == "scalar"
    assert set(caps["peak_kernel_isas_supported"]) <= set(caps["peak_kernel_isas"])
    assert expected_isa() in caps["peak_kernel_isas_supported"]
    for isa in caps["peak_kernel_isas_supported"]:
        peak, done = run_runner(runner, "--measure-peak", "--peak-isa", isa)
        assert done.returncode == 0, done.stderr
        assert peak["kernel"]["isa"] == isa and peak["requested_isa"] == isa
        assert peak["core"] is None and peak["affinity"]["requested_core"] == -1
        assert peak["peak_gflops"] > 0 and peak["kernel"]["fused"] == (isa in ("avx512f", "avx2_fma", "neon"))


@pytest.mark.slow
def test_the_peak_kernel_compiles_for_aarch64_with_fmla(tmp_path):
    compiler = shutil.which("aarch64-linux-gnu-g++")
    objdump = shutil.which("aarch64-linux-gnu-objdump")
    if not (compiler and objdump):
        pytest.skip("no aarch64 cross compiler here; apt-get install g++-aarch64-linux-gnu")
    obj = tmp_path / "peak_kernel.o"
    done = subprocess.run([compiler, "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-c",
                           str(APP / "src" / "peak_kernel.cpp"), "-o", str(obj)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(obj)], capture_output=True, text=True,
                             check=True).stdout
    neon = listing.split("run_neon", 1)[1].split("\n\n", 1)[0]
    # 24 independent fmla chains, each accumulating in place (no register moves inside the loop).
    loop = neon[neon.index("fmla"):]
    loop = loop[:loop.index("b.ne")]
    assert loop.count("fmla") == 24 and "mov\tv" not in loop
