"""Client features of calibration images at several split points, gathered in one batched pass."""
from __future__ import annotations

import torch
from torch import nn

from export.architectures import Architecture, check_arch_split_point, get_architecture


def collect_split_features(model: nn.Module, images: torch.Tensor, split_points: tuple[str, ...],
                           batch_size: int, architecture: Architecture | None = None) -> dict[str, torch.Tensor]:
    """Flattened client features (N, D) for each split point, running the trunk only as deep as needed.

    `architecture` defaults to VGG-16.
    """
    architecture = architecture or get_architecture("vgg16")
    for split in split_points:
        check_arch_split_point(architecture.name, split)
    segments = architecture.segments(model)
    names = [name for name, _ in segments]
    deepest = max(names.index(split) for split in split_points)
    collected: dict[str, list[torch.Tensor]] = {split: [] for split in split_points}
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            activation = images[start:start + batch_size]
            for name, layers in segments[:deepest + 1]:
                for layer in layers:
                    activation = layer(activation)
                if name in collected:
                    collected[name].append(activation.flatten(1).clone())
    return {split: torch.cat(parts) for split, parts in collected.items()}
