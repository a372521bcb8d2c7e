"""VGG-16 split points named as in Caffe's VGG-16 (conv1_1 ... conv5_3, pool1 ... pool5).

A split point names the last layer that runs on the client. A convolution split point includes its ReLU.
"""
from __future__ import annotations

from torch import nn

from export.errors import ConfigError
from formats.split_points import PAPER_SPLIT_POINTS, VGG16_SPLIT_POINTS

SPLIT_POINT_NAMES: tuple[str, ...] = VGG16_SPLIT_POINTS  # one list, shared with the split study's readers
DEFAULT_SPLIT_POINTS: tuple[str, ...] = PAPER_SPLIT_POINTS


def check_split_point(name: str) -> str:
    """Return `name` if it is a known split point, else raise ConfigError listing the valid names."""
    if name not in SPLIT_POINT_NAMES:
        raise ConfigError(f"unknown split point {name!r}; valid split points: {', '.join(SPLIT_POINT_NAMES)}")
    return name


def split_point_ends(features: nn.Sequential) -> dict[str, int]:
    """Map every split point name to the index one past its last layer in a VGG `features` Sequential."""
    ends: dict[str, int] = {}
    block, conv_in_block = 1, 0
    layers = list(features)
    for index, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d):
            conv_in_block += 1
            relu_follows = index + 1 < len(layers) and isinstance(layers[index + 1], nn.ReLU)
            ends[f"conv{block}_{conv_in_block}"] = index + 2 if relu_follows else index + 1
        elif isinstance(layer, nn.MaxPool2d):
            ends[f"pool{block}"] = index + 1
            block, conv_in_block = block + 1, 0
    return ends


def vgg16_feature_names() -> dict[int, str]:
    """`features` index of the last layer of every split point -> its Caffe name, for torchvision's VGG-16."""
    from torchvision.models.vgg import cfgs, make_layers

    features = make_layers([v if v == "M" else 1 for v in cfgs["D"]])  # layer positions do not depend on width
    return {end - 1: name for name, end in split_point_ends(features).items()}


def feature_end_index(features: nn.Sequential, split_point: str) -> int:
    """Index one past the last `features` layer that belongs to the client for `split_point`."""
    check_split_point(split_point)
    ends = split_point_ends(features)
    if split_point not in ends:
        raise ConfigError(f"split point {split_point!r} does not exist in this model's layers")
    return ends[split_point]
