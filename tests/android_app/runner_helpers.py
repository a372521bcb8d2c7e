"""Shared pieces of the runner tests: running the host runner, the core to pin to, and small ExecuTorch programs
exported on the spot (imported by the test modules of this folder)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

RUN_TIMEOUT_S = 120


def run_runner(runner: Path, *args, timeout_s: float = RUN_TIMEOUT_S,
               cwd: Path | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    """(the JSON object on stdout, the finished process). ExecuTorch's own log lines on stderr may quote raw bytes
    of a damaged file: they are decoded with replacement."""
    done = subprocess.run([str(runner), *map(str, args)], capture_output=True, text=True, errors="replace",
                          timeout=timeout_s, cwd=cwd)
    return json.loads(done.stdout), done


def allowed_core() -> int:
    return max(os.sched_getaffinity(0))


def export_program(path: Path, kind: str) -> Path:
    """Writes a small XNNPACK program: "tiny" (a conv and a linear on 1x3x16x16, microseconds per inference)
    or "convstack" (three 3x3 convolutions of 32 channels on 1x3x64x64, about a millisecond or two)."""
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.fc = torch.nn.Linear(8 * 16 * 16, 4)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    class ConvStack(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = torch.nn.Sequential(
                torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(),
                torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(),
                torch.nn.Conv2d(32, 32, 3, padding=1))

        def forward(self, x):
            return self.convs(x)

    torch.manual_seed(0)
    module, example = {"tiny": (Tiny(), torch.rand(1, 3, 16, 16)),
                       "convstack": (ConvStack(), torch.rand(1, 3, 64, 64))}[kind]
    exported = torch.export.export(module.eval(), (example,))
    program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(program.buffer)
    return path
