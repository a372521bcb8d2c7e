"""The CNNs the export stage knows by name, their default split points, and the names the project gives them.

Split points come from the model's exported graph (export.graph_split), as for any model given with --model;
nothing here says where a network can be cut. What an architecture adds is a *rename* from graph names (module
paths) to the names the project used before the graph did the cutting, so that existing manifests, result
files and commands keep their meaning:

- vgg16: Caffe's names, `conv1_1 ... conv5_3` (the ReLU after the convolution, `features.1` ...), `pool1 ...
  pool5`; the convolution before its ReLU keeps its graph name (`features.0`).
- resnet18, resnet50: `stem` (the max pool), `layer<i>_<j>` for block j of layer i, `layer<i>` for the last one.
- mobilenet_v2, mobilenet_v3_large, efficientnet_b0: `block<i>` for `features.<i>` (an EfficientNet block is a
  stage of several MBConv blocks, whose own ends keep their graph names, `features.2.0`).
Every other cut point the graph offers keeps its graph name (`avgpool`, `flatten`, `features.2.conv.0` ...).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torchvision import models as tv

from export.errors import ConfigError
from export.graph_split import ModelGraph, trace_model
from export.models import ModelShape, build_vgg16, seeded_vgg16, set_batchnorm_statistics
from export.split_points import DEFAULT_SPLIT_POINTS, vgg16_feature_names

# Names of the split points are checked on a small model of the architecture (names do not depend on size).
NAMING_INPUT_SIZE = 64


@dataclass(frozen=True)
class Architecture:
    """How to build one CNN (random weights from the torch RNG) and what its graph's cut points are called.

    `default_splits` and `default_k` give the three split points (and PCA sizes) exported when no --splits is
    given: late in the trunk, as conv5_1/5_2/5_3 are for VGG-16.
    """

    name: str
    build: Callable[[int], nn.Module]  # num_classes -> model in eval mode
    rename: Callable[[str], str | None]
    default_splits: tuple[str, ...]
    default_k: Mapping[str, int]


_VGG16_NAMES = vgg16_feature_names()


def _vgg16_name(path: str) -> str | None:
    match = re.fullmatch(r"features\.(\d+)", path)
    return _VGG16_NAMES.get(int(match.group(1))) if match else None


def _resnet_name(path: str) -> str | None:
    if path == "maxpool":
        return "stem"
    if re.fullmatch(r"layer\d", path):
        return path
    match = re.fullmatch(r"layer(\d)\.(\d+)", path)
    return f"layer{match.group(1)}_{match.group(2)}" if match else None


def _features_name(path: str) -> str | None:
    match = re.fullmatch(r"features\.(\d+)", path)
    return f"block{match.group(1)}" if match else None


def _torchvision(constructor: Callable[..., nn.Module]) -> Callable[[int], nn.Module]:
    return lambda num_classes: constructor(weights=None, num_classes=num_classes).eval()


def _vgg16_build(num_classes: int) -> nn.Module:
    return build_vgg16(ModelShape(num_classes=num_classes))  # build_vgg16 also knows the width divisor


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch for arch in (
        Architecture("vgg16", _vgg16_build, _vgg16_name,
                     DEFAULT_SPLIT_POINTS, {"conv5_1": 8, "conv5_2": 6, "conv5_3": 4}),
        Architecture("resnet18", _torchvision(tv.resnet18), _resnet_name,
                     ("layer2", "layer3", "layer4"), {"layer2": 8, "layer3": 6, "layer4": 4}),
        Architecture("resnet50", _torchvision(tv.resnet50), _resnet_name,
                     ("layer2", "layer3", "layer4"), {"layer2": 8, "layer3": 6, "layer4": 4}),
        Architecture("mobilenet_v2", _torchvision(tv.mobilenet_v2), _features_name,
                     ("block6", "block13", "block17"), {"block6": 8, "block13": 6, "block17": 4}),
        Architecture("mobilenet_v3_large", _torchvision(tv.mobilenet_v3_large), _features_name,
                     ("block6", "block12", "block15"), {"block6": 8, "block12": 6, "block15": 4}),
        Architecture("efficientnet_b0", _torchvision(tv.efficientnet_b0), _features_name,
                     ("block3", "block5", "block7"), {"block3": 8, "block5": 6, "block7": 4}),
    )
}
DEFAULT_ARCH = "vgg16"


def get_architecture(name: str) -> Architecture:
    """The architecture called `name`; ConfigError listing the known ones otherwise."""
    if name not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {name!r}; available: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def architecture_graph(arch: str, model: nn.Module, input_size: int) -> ModelGraph:
    """The exported graph of `model` (an `arch` network) with the project's names for its cut points."""
    return trace_model(model, input_size, get_architecture(arch).rename)


@functools.cache
def _naming_graph(arch: str) -> ModelGraph:
    shape = ModelShape(2, NAMING_INPUT_SIZE, 16 if arch == "vgg16" else 1)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_vgg16(shape) if arch == "vgg16" else get_architecture(arch).build(2)
    return architecture_graph(arch, model, NAMING_INPUT_SIZE)


def split_point_names(arch: str) -> tuple[str, ...]:
    """Every split point of `arch`, from the input side to the output side (found in a small model's graph)."""
    return _naming_graph(arch).names


def check_arch_split_point(arch: str, name: str) -> str:
    """`name` if `arch` has that split point; ConfigError saying why not otherwise (unknown, inside a branch)."""
    try:
        return _naming_graph(arch).cut_point(name).name
    except ConfigError as error:
        raise ConfigError(f"{error} (those of {arch}; `python -m export --arch {arch} --splits list` shows "
                          "their shapes)") from None


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
