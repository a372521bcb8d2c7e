"""Isotropic Gaussian noise added in the k-dimensional PCA space, drawn afresh at every inference.

The noise comes from `torch.randn(shape)` inside the program, which exports as `aten.randn.default`:
ExecuTorch's portable kernel library implements `aten::randn.out` (XNNPACK leaves the op to it), and the
TorchScript Lite interpreter runs `aten::randn` too. The op lies outside the core ATen opset, so the
ExecuTorch writer lists it as an allowed exception.
"""
from __future__ import annotations

import math

import torch
from torch import nn

NOISE_OPS = (torch.ops.aten.randn.default,)
SEED_POLICY = "fresh_per_inference"
NOISE_OP_NAME = "aten::randn"


class GaussianNoise(nn.Module):
    """y + N(0, variance * I), fresh noise on every call."""

    def __init__(self, variance: float, output_shape: tuple[int, ...]):
        super().__init__()
        self.std = math.sqrt(variance)
        self.output_shape = tuple(output_shape)

    def forward(self, coefficients: torch.Tensor) -> torch.Tensor:
        return coefficients + torch.randn(self.output_shape) * self.std
