"""Cut a model at a split point into the client part and the cloud remainder (client -> cloud == full model).

The cut is made in the model's exported graph (export.graph_split); this module only names the halves.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from export.architectures import Architecture, architecture_graph, get_architecture
from export.graph_split import BatchOfOne, CutPoint, ModelGraph

DEFAULT_INPUT_SIZE = 224


@dataclass
class SplitModel:
    """The two halves of a model cut at `split_point`; they share the original model's weights."""

    split_point: str
    client: BatchOfOne
    cloud: BatchOfOne
    cut: CutPoint


def split_graph(graph: ModelGraph, split_point: str) -> SplitModel:
    """Client = the graph up to and including `split_point`; cloud = everything after it (checked to compose)."""
    halves = graph.split(split_point)
    return SplitModel(split_point=split_point, client=halves.client, cloud=halves.remainder, cut=halves.cut)


def split_model(architecture: Architecture, model: nn.Module, split_point: str,
                input_size: int = DEFAULT_INPUT_SIZE) -> SplitModel:
    """`model` (an `architecture` network) cut at `split_point` for `input_size`-pixel images."""
    return split_graph(architecture_graph(architecture.name, model, input_size), split_point)


def split_vgg16(model: nn.Module, split_point: str, input_size: int = DEFAULT_INPUT_SIZE) -> SplitModel:
    """Client = `features` up to and including `split_point` (Caffe names); cloud = everything after it."""
    return split_model(get_architecture("vgg16"), model, split_point, input_size)
