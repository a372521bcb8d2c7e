"""Write a module as an ExecuTorch program (.pte): XNNPACK-delegated fp32, or portable kernels only."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from export.errors import ProgramExportError
from export.noise import NOISE_OPS

EXECUTORCH_BACKENDS = ("xnnpack", "portable")


def lower_to_executorch(module: nn.Module, example_input: torch.Tensor, backend: str) -> bytes:
    """torch.export -> edge dialect (-> XNNPACK delegate) -> ExecuTorch program bytes."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    if backend not in EXECUTORCH_BACKENDS:
        raise ProgramExportError(f"ExecuTorch backend {backend!r} is unknown; "
                                 f"use one of {', '.join(EXECUTORCH_BACKENDS)}")
    partitioners = [XnnpackPartitioner()] if backend == "xnnpack" else []
    compile_config = EdgeCompileConfig(_core_aten_ops_exception_list=list(NOISE_OPS))
    with torch.no_grad():
        exported = torch.export.export(module.eval(), (example_input,), strict=False)
        edge = to_edge_transform_and_lower(exported, partitioner=partitioners, compile_config=compile_config)
        return edge.to_executorch().buffer


def write_pte(module: nn.Module, example_input: torch.Tensor, path: Path, backend: str) -> None:
    """Export `module` for `backend` and write the program to `path` atomically."""
    try:
        program = lower_to_executorch(module, example_input, backend)
    except ProgramExportError:
        raise
    except Exception as error:  # lowering raises many error types
        raise lowering_failed(path, error) from error
    write_program_bytes(path, program)


def lowering_failed(path: Path, error: Exception, how: str = "") -> ProgramExportError:
    """The one-line error for a program that ExecuTorch could not lower (`how`: e.g. " with external weights")."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    return ProgramExportError(f"ExecuTorch export of {path.name}{how} failed: {type(error).__name__}: {first_line}")


def write_program_bytes(path: Path, program: bytes) -> None:
    """`program` written to `path` atomically (a .tmp beside it, then renamed)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(program)
    temporary.replace(path)
