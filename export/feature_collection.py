"""Client features of calibration images at several split points, gathered in one batched pass."""
from __future__ import annotations

import torch
from torch import nn

from export.split_points import feature_end_index


def collect_split_features(model: nn.Module, images: torch.Tensor, split_points: tuple[str, ...],
                           batch_size: int) -> dict[str, torch.Tensor]:
    """Flattened client features (N, D) for each split point, running `features` only as deep as needed."""
    ends = {split: feature_end_index(model.features, split) for split in split_points}
    deepest = max(ends.values())
    layers = list(model.features)[:deepest]
    collected: dict[str, list[torch.Tensor]] = {split: [] for split in split_points}
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            activation = images[start:start + batch_size]
            for index, layer in enumerate(layers, start=1):
                activation = layer(activation)
                for split, end in ends.items():
                    if end == index:
                        collected[split].append(activation.flatten(1).clone())
    return {split: torch.cat(parts) for split, parts in collected.items()}
