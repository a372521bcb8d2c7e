"""Cut a VGG-16 at a split point into the client part and the cloud remainder (client -> cloud == full model)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from export.split_points import feature_end_index


class CloudRemainder(nn.Module):
    """The rest of `features` after the split, then avgpool, flatten and the classifier (as VGG.forward does)."""

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


def split_vgg16(model: nn.Module, split_point: str) -> SplitModel:
    """Client = `features` up to and including `split_point`; cloud = everything after it."""
    end = feature_end_index(model.features, split_point)
    layers = list(model.features)
    client = nn.Sequential(*layers[:end]).eval()
    cloud = CloudRemainder(nn.Sequential(*layers[end:]), model.avgpool, model.classifier).eval()
    return SplitModel(split_point=split_point, client=client, cloud=cloud)

