"""Small models for the bring-your-own-model tests (imported by `--model byom_models:NAME`)."""
from __future__ import annotations

import torch
from torch import nn


class Residual(nn.Module):
    """conv -> (conv -> relu -> conv) + skip -> relu -> pool -> linear: a branch from `body.0` to the add."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
        self.out = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.out(self.body(x) + x)
        return self.head(torch.flatten(self.pool(x), 1))


def residual(num_classes: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return Residual(num_classes).eval()


class FixedSize(nn.Module):
    """A head that only fits 32-pixel inputs (flatten into a fixed Linear)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, stride=2, padding=1)
        self.head = nn.Linear(2 * 16 * 16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.conv(x), 1))


def fixed_size() -> nn.Module:
    return FixedSize().eval()


class DataDependent(nn.Module):
    """Control flow on a value: torch.export cannot trace it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if x.sum() > 0:
            return x.mean(dim=(2, 3))
        return x.amax(dim=(2, 3))


def data_dependent() -> nn.Module:
    return DataDependent().eval()


def not_a_module() -> dict:
    return {"weights": 1}


raise_on_call = None  # not callable
