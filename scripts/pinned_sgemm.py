"""An independent reading of one core's fp32 rate: the best of a few square single-threaded torch sgemms pinned
to the core, timed by the thread's CPU time (as the runner's --measure-peak is). A tuned GEMM runs on the same FMA
units, so it stays below their peak and reaches most of it. Runs in a fresh interpreter, so the caller's threads
and affinity are left alone."""
from __future__ import annotations

import json
import subprocess
import sys

_SGEMM = """
import json, os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
import torch
torch.set_num_threads(1)
best = 0.0
for n in (256, 384, 512):
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    for _ in range(6):
        start = time.thread_time_ns()
        torch.mm(a, b)
        best = max(best, 2 * n ** 3 / (time.thread_time_ns() - start))
print(json.dumps({"gflops": best, "threads": torch.get_num_threads()}))
"""


class SgemmError(RuntimeError):
    pass


def pinned_sgemm_gflops(core: int, timeout_s: float = 300.0) -> float:
    """The best single-threaded sgemm rate on `core`, GFLOP/s over the thread's CPU time."""
    done = subprocess.run([sys.executable, "-c", _SGEMM, str(core)], capture_output=True, text=True,
                          timeout=timeout_s)
    if done.returncode != 0:
        raise SgemmError(f"the torch sgemm on core {core} failed: {done.stderr.strip()[-300:]}")
    reading = json.loads(done.stdout.strip().splitlines()[-1])
    if reading["threads"] != 1:
        raise SgemmError(f"torch ran the sgemm on {reading['threads']} threads, not 1")
    return reading["gflops"]
