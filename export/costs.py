"""Static facts of one program's module: stored values, FLOPs (counted by torch.utils.flop_counter), output."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class ModuleCosts:
    param_count: int
    flops: int
    output_shape: list[int]
    output_dtype: str
    output_size_bytes: int


def count_parameters(module: nn.Module) -> int:
    """Stored values of the module: parameters plus buffers (e.g. the PCA mean)."""
    return sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())


def measure_costs(module: nn.Module, example_input: torch.Tensor) -> ModuleCosts:
    """Run one forward pass under FlopCounterMode (a multiply-add counts 2) and describe its output."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        output = module(example_input)
    return ModuleCosts(
        param_count=count_parameters(module),
        flops=int(counter.get_total_flops()),
        output_shape=list(output.shape),
        output_dtype=dtype_name(output.dtype),
        output_size_bytes=output.numel() * output.element_size(),
    )


def dtype_name(dtype: torch.dtype) -> str:
    """`torch.float32` -> `float32`."""
    return str(dtype).removeprefix("torch.")
