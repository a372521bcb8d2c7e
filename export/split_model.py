"""Cut a model at a split point into the client part and the cloud remainder (client -> cloud == full model)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from export.architectures import Architecture, check_arch_split_point, get_architecture


class CloudRemainder(nn.Module):
    """The trunk's layers after the split, then the global pool, flatten and the classifier (as the torchvision
    models' forward does)."""

    def __init__(self, remaining_features: nn.Sequential, avgpool: nn.Module, classifier: nn.Module):
        super().__init__()
        self.features = remaining_features
        self.avgpool = avgpool
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


@dataclass
class SplitModel:
    """The two halves of a model cut at `split_point`; they share the original model's weights."""

    split_point: str
    client: nn.Module
    cloud: CloudRemainder


def split_model(architecture: Architecture, model: nn.Module, split_point: str) -> SplitModel:
    """Client = the trunk's layers up to and including `split_point`; cloud = everything after it.

    The layers are the model's own modules (flattened into one Sequential per half), so both halves share its
    weights. For VGG-16 the client is `features[:end]`, as it always was.
    """
    check_arch_split_point(architecture.name, split_point)
    segments = architecture.segments(model)
    position = [name for name, _ in segments].index(split_point)
    client_layers = [layer for _, layers in segments[:position + 1] for layer in layers]
    cloud_layers = [layer for _, layers in segments[position + 1:] for layer in layers]
    client = nn.Sequential(*client_layers).eval()
    cloud = CloudRemainder(nn.Sequential(*cloud_layers), architecture.pool(model),
                           architecture.classifier(model)).eval()
    return SplitModel(split_point=split_point, client=client, cloud=cloud)


def split_vgg16(model: nn.Module, split_point: str) -> SplitModel:
    """Client = `features` up to and including `split_point` (Caffe names); cloud = everything after it."""
    return split_model(get_architecture("vgg16"), model, split_point)

