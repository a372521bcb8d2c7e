"""The cloud side: a program run on this host through ExecuTorch's Python runtime (executorch.runtime), with
XNNPACK's thread pool set to every host core, timed as the median of N executions after one warm-up. A
remainder whose weights are in a shared data file is loaded with it (`data_path`); its load time includes
reading them from there."""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.cloud.errors import CloudStageError
from formats.cloud_results import CloudTiming

RUNTIME_NAME = "executorch.runtime (Python), XNNPACK delegate"


def host_threads() -> int:
    return os.cpu_count() or 1


def host_description() -> str:
    return f"{platform.system()}-{platform.machine()}, {host_threads()} cores ({platform.processor() or 'cpu'})"


def use_all_host_cores() -> int:
    """Size ExecuTorch's thread pool to every host core (before a program loads); returns the pool's size."""
    from executorch.extension.pybindings import portable_lib

    if int(portable_lib._threadpool_get_thread_count()) != host_threads():
        portable_lib._unsafe_reset_threadpool(host_threads())
    return int(portable_lib._threadpool_get_thread_count())


@dataclass
class HostProgram:
    """One loaded program's `forward` method."""

    path: Path
    method: Any  # executorch.runtime's Method (imported only when a program is loaded)
    load_ms: float
    threads: int
    remembered: dict[str, np.ndarray] = field(default_factory=dict)  # input sha256 -> output (reference_output)

    @classmethod
    def load(cls, path: Path, data_path: Path | None = None) -> HostProgram:
        """Load `path`; `data_path` is the data file (.ptd) holding its weights when they are not inside it."""
        from executorch.runtime import Runtime

        threads = use_all_host_cores()
        started = time.perf_counter()
        try:
            program = Runtime.get().load_program(Path(path), data_path=data_path)
            method = program.load_method("forward")
        except Exception as error:  # noqa: BLE001 - the runtime raises RuntimeError/ValueError alike
            raise CloudStageError(f"the host cannot load {path} with executorch.runtime ({error}); "
                                  "re-export it with this executorch version") from error
        return cls(Path(path), method, (time.perf_counter() - started) * 1e3, threads)

    def run(self, values: np.ndarray) -> np.ndarray:
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
        try:
            outputs = self.method.execute([tensor])
        except Exception as error:  # noqa: BLE001
            raise CloudStageError(f"{self.path.name} failed on the host on an input of shape "
                                  f"{list(values.shape)} ({error})") from error
        return outputs[0].detach().numpy().astype(np.float32, copy=True)

    def reference_output(self, values: np.ndarray) -> np.ndarray:
        """run(values), remembered by the input's bytes: every split is checked against the full program on the
        same image (21 full-size runs, about 3 s, measured)."""
        data = np.ascontiguousarray(values, dtype=np.float32)
        key = hashlib.sha256(data.tobytes()).hexdigest() + str(data.shape)
        if key not in self.remembered:
            self.remembered[key] = self.run(data)
        return self.remembered[key].copy()

    def timed(self, values: np.ndarray, repeats: int, backend: str) -> tuple[np.ndarray, CloudTiming]:
        """The output and the time of `repeats` executions after one warm-up."""
        output = self.run(values)
        times_ms = []
        for _ in range(repeats):
            started = time.perf_counter()
            self.run(values)
            times_ms.append(round((time.perf_counter() - started) * 1e3, 4))
        timing = CloudTiming(runtime=RUNTIME_NAME, backend=backend, threads=self.threads, host=host_description(),
                             repeats=repeats, load_ms=round(self.load_ms, 3), times_ms=times_ms,
                             median_ms=round(statistics.median(times_ms), 4))
        return output, timing
