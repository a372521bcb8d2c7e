"""Client features of calibration images at several split points, gathered in one pass per image."""
from __future__ import annotations

import torch
from torch import nn

from export.architectures import Architecture, architecture_graph, get_architecture
from export.graph_split import ModelGraph


def collect_split_features(model: nn.Module | ModelGraph, images: torch.Tensor, split_points: tuple[str, ...],
                           batch_size: int | None = None,
                           architecture: Architecture | None = None) -> dict[str, torch.Tensor]:
    """Flattened client features (N, D) for each split point (the graph runs once per image, to the end).

    `model` is a graph, or an `architecture` network (VGG-16 by default) traced at the images' size.
    `batch_size` is accepted for older callers; the graph runs one image at a time.
    """
    del batch_size
    if not isinstance(model, ModelGraph):
        model = architecture_graph((architecture or get_architecture("vgg16")).name, model, images.shape[-1])
    return model.activations(images, split_points)
