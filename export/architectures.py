"""The CNNs the export stage knows, and where each can be split.

Every architecture is described the same way: an ordered list of *segments* (a split point name and the layers
that end at it) that together make up the convolutional trunk, then a global pool and the classifier. A client
runs the segments up to and including its split point; the cloud remainder runs the rest, the pool, flatten and
the classifier (export.split_model). Split point names:

- vgg16: Caffe's names, `conv1_1 ... conv5_3`, `pool1 ... pool5` (a conv split includes its ReLU).
- resnet18, resnet50: `stem` (conv1, bn1, relu, maxpool), then one split point per residual block:
  `layer<i>_<j>` is block j of layer i, and the last block of a layer is named `layer<i>` (the layer's end).
- mobilenet_v2, mobilenet_v3_large, efficientnet_b0: `block<i>` is `features[i]` of the torchvision model
  (block0 is the stem convolution, the last block the final 1x1 convolution; an EfficientNet block is a stage
  of several MBConv blocks).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torchvision import models as tv

from export.errors import ConfigError
from export.models import ModelShape, build_vgg16, seeded_vgg16, set_batchnorm_statistics
from export.split_points import DEFAULT_SPLIT_POINTS, split_point_ends

Segment = tuple[str, list[nn.Module]]


@dataclass(frozen=True)
class Architecture:
    """How to build one CNN (random weights from the torch RNG) and cut it into segments, pool and classifier.

    `default_splits` and `default_k` give the three split points (and PCA sizes) exported when no --splits is
    given: late in the trunk, as conv5_1/5_2/5_3 are for VGG-16.
    """

    name: str
    build: Callable[[int], nn.Module]  # num_classes -> model in eval mode
    segments: Callable[[nn.Module], list[Segment]]
    pool: Callable[[nn.Module], nn.Module]
    classifier: Callable[[nn.Module], nn.Module]
    default_splits: tuple[str, ...]
    default_k: Mapping[str, int]


def _vgg16_segments(model: nn.Module) -> list[Segment]:
    layers, segments, start = list(model.features), [], 0
    for name, end in split_point_ends(model.features).items():
        segments.append((name, layers[start:end]))
        start = end
    if start != len(layers):
        raise ConfigError("this VGG-16 has layers after pool5; it is not torchvision's layout")
    return segments


def _resnet_segments(model: nn.Module) -> list[Segment]:
    segments: list[Segment] = [("stem", [model.conv1, model.bn1, model.relu, model.maxpool])]
    for index in range(1, 5):
        blocks = list(getattr(model, f"layer{index}"))
        for position, block in enumerate(blocks):
            name = f"layer{index}" if position == len(blocks) - 1 else f"layer{index}_{position}"
            segments.append((name, [block]))
    return segments


def _features_segments(model: nn.Module) -> list[Segment]:
    return [(f"block{index}", [block]) for index, block in enumerate(model.features)]


def _torchvision(constructor: Callable[..., nn.Module]) -> Callable[[int], nn.Module]:
    return lambda num_classes: constructor(weights=None, num_classes=num_classes).eval()


def _vgg16_build(num_classes: int) -> nn.Module:
    return build_vgg16(ModelShape(num_classes=num_classes))  # build_vgg16 also knows the width divisor


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch for arch in (
        Architecture("vgg16", _vgg16_build, _vgg16_segments, lambda m: m.avgpool, lambda m: m.classifier,
                     DEFAULT_SPLIT_POINTS, {"conv5_1": 8, "conv5_2": 6, "conv5_3": 4}),
        Architecture("resnet18", _torchvision(tv.resnet18), _resnet_segments, lambda m: m.avgpool, lambda m: m.fc,
                     ("layer2", "layer3", "layer4"), {"layer2": 8, "layer3": 6, "layer4": 4}),
        Architecture("resnet50", _torchvision(tv.resnet50), _resnet_segments, lambda m: m.avgpool, lambda m: m.fc,
                     ("layer2", "layer3", "layer4"), {"layer2": 8, "layer3": 6, "layer4": 4}),
        # MobileNetV2.forward pools with F.adaptive_avg_pool2d(x, (1, 1)); the module runs the same op.
        Architecture("mobilenet_v2", _torchvision(tv.mobilenet_v2), _features_segments,
                     lambda m: nn.AdaptiveAvgPool2d((1, 1)), lambda m: m.classifier,
                     ("block6", "block13", "block17"), {"block6": 8, "block13": 6, "block17": 4}),
        Architecture("mobilenet_v3_large", _torchvision(tv.mobilenet_v3_large), _features_segments,
                     lambda m: m.avgpool, lambda m: m.classifier,
                     ("block6", "block12", "block15"), {"block6": 8, "block12": 6, "block15": 4}),
        Architecture("efficientnet_b0", _torchvision(tv.efficientnet_b0), _features_segments,
                     lambda m: m.avgpool, lambda m: m.classifier,
                     ("block3", "block5", "block7"), {"block3": 8, "block5": 6, "block7": 4}),
    )
}
DEFAULT_ARCH = "vgg16"


def get_architecture(name: str) -> Architecture:
    """The architecture called `name`; ConfigError listing the known ones otherwise."""
    if name not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {name!r}; available: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


@functools.cache
def split_point_names(arch: str) -> tuple[str, ...]:
    """Every split point of `arch`, from the input side to the output side (built on the meta device)."""
    architecture = get_architecture(arch)
    with torch.device("meta"):
        model = architecture.build(2)
    return tuple(name for name, _ in architecture.segments(model))


def check_arch_split_point(arch: str, name: str) -> str:
    """`name` if `arch` has that split point; ConfigError listing the ones it has otherwise."""
    names = split_point_names(arch)
    if name not in names:
        raise ConfigError(f"unknown split point {name!r}; valid split points: {', '.join(names)} "
                          f"(those of {arch}; `python -m export --arch {arch} --splits list` shows them)")
    return name


def split_point_shapes(arch: str, input_size: int) -> list[tuple[str, tuple[int, ...]]]:
    """(split point, client output shape) for every split point at `input_size` pixels (computed on meta)."""
    architecture = get_architecture(arch)
    shapes = []
    with torch.device("meta"), torch.no_grad():
        model = architecture.build(2)
        activation = torch.empty(1, 3, input_size, input_size)
        for name, layers in architecture.segments(model):
            for layer in layers:
                activation = layer(activation)
            shapes.append((name, tuple(activation.shape)))
    return shapes


def seeded_model(arch: str, shape: ModelShape, seed: int) -> nn.Module:
    """Architecture `arch` in eval mode, `shape.num_classes`-way head, weights depending only on `seed`.

    The width divisor applies to VGG-16 only (ExportConfig refuses it for the others).
    """
    architecture = get_architecture(arch)
    if arch == "vgg16":
        return seeded_vgg16(shape, seed)
    torch.manual_seed(seed)
    model = architecture.build(shape.num_classes).eval()
    set_batchnorm_statistics(model, shape.input_size, seed)
    return model
