"""Export programs in several processes at once: the lowering of one program is single-threaded most of the
time, so a 2-core host exports two programs in about the time of one.

Workers are forked from the exporting process, so they share its model, projections and plans without
pickling them (a full VGG-16 is 537 MB); each returns its program's manifest entry. How many run is bounded by
the cores and by the memory available. Measured (/usr/bin/time -v, this x86-64 host): one process exporting the
full-size VGG-16 to XNNPACK peaks at 2.45 GB resident, 1.19 GB of it before the export (interpreter, torch and
the model's 537 MB of weights, which a forked worker shares with its parent); the export itself adds about
1.2 GB, 2.3 times the weight bytes (torch.export's, the edge program's and the serialized program's copies).
A worker is budgeted WORKER_BYTES_PER_PARAM_BYTE times the weight bytes plus WORKER_BASE_BYTES.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from export.events import ExportEvent
from formats.manifest import ProgramEntry

MAX_WORKERS = 2
WORKER_BYTES_PER_PARAM_BYTE = 3.0  # what one worker adds, over the weight bytes of its model (2.3 measured)
WORKER_BASE_BYTES = 600 * 2**20  # executorch and the lowering's own state in a worker


@dataclass
class ExportResult:
    """What one export job sends back: the entry, a data file to merge (cloud remainders), its events."""

    index: int
    entry: ProgramEntry
    data_part: Path | None
    events: list[ExportEvent] = field(default_factory=list)
    peak_rss_bytes: int = 0


ExportJob = Callable[[int], ExportResult]
_job: ExportJob | None = None  # the job of the forked workers (set before the fork, inherited)


def peak_rss_bytes() -> int:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def available_memory_bytes() -> int | None:
    """MemAvailable of /proc/meminfo, or None where there is none."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def worker_bytes(model: nn.Module) -> int:
    """The memory one export worker needs for programs of `model` (its largest program is the full model)."""
    weight_bytes = sum(tensor.numel() * tensor.element_size() for tensor in model.state_dict().values())
    return int(WORKER_BASE_BYTES + WORKER_BYTES_PER_PARAM_BYTE * weight_bytes)


def export_workers(requested: int | None, model: nn.Module, jobs: int) -> int:
    """How many processes export `jobs` programs: `requested` if given, else up to MAX_WORKERS, the cores, and
    what the available memory holds (at least 1)."""
    if requested is not None:
        return max(1, min(requested, max(jobs, 1)))
    memory = available_memory_bytes()
    by_memory = MAX_WORKERS if memory is None else memory // worker_bytes(model)
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, by_memory, jobs))


def _run(index: int) -> ExportResult:
    assert _job is not None, "the export job is set before the workers fork"
    result = _job(index)
    result.peak_rss_bytes = peak_rss_bytes()
    return result


def _limit_threads() -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker; the workers are the parallelism


def preload_lowering() -> None:
    """Import ExecuTorch's lowering once, before the workers fork: each worker would import it again (4.5 s of a
    full-size remainder's 16 s lowering, measured), and this process reads the programs' data files with it."""
    import executorch.backends.xnnpack.partition.xnnpack_partitioner  # noqa: F401
    import executorch.exir  # noqa: F401


def run_jobs(job: ExportJob, indices: list[int], workers: int) -> Iterator[ExportResult]:
    """job(i) for every i of `indices`, in this process (one worker) or in `workers` forked processes; results
    as they finish. The first failing job's error is raised once the running ones are stopped."""
    global _job
    if workers <= 1 or len(indices) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for index in indices:
            result = job(index)
            result.peak_rss_bytes = peak_rss_bytes()
            yield result
        return
    _job = job
    preload_lowering()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_limit_threads) as pool:
            running: set[Future] = {pool.submit(_run, index) for index in indices}
            try:
                while running:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield future.result()
            finally:
                for future in running:
                    future.cancel()
    finally:
        _job = None
