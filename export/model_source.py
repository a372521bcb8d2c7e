"""The model one export run works on: a built-in architecture or a --model factory, its weights, and its graph.

Both kinds go through the same graph (export.graph_split); only the names of the built-in architectures' cut
points differ (export.architectures). A factory model's default split points are chosen from its graph.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from export.architectures import architecture_graph, seeded_model
from export.config import ExportConfig
from export.errors import ConfigError
from export.graph_split import ModelGraph, trace_model
from export.model_factory import build_from_factory, parse_factory
from export.models import ModelShape, load_weights
from formats.file_hash import file_sha256

# A factory model's default split points: the first cut point past these fractions of the model's FLOPs,
# with these PCA sizes (as conv5_1/5_2/5_3 with 8, 6, 4 for VGG-16: late in the network, smaller k deeper).
DEFAULT_FLOP_FRACTIONS: tuple[float, ...] = (0.5, 0.75, 0.9)
DEFAULT_K: tuple[int, ...] = (8, 6, 4)


@dataclass
class SourceModel:
    """The model, its exported graph, and what identifies it in manifests and cache keys."""

    model: nn.Module
    graph: ModelGraph
    weights_id: str
    model_id: str
    label: str


_last_loaded: list[tuple[tuple, SourceModel]] = []  # the last model loaded, by what decides it (one at most)


def source_model_key(config: ExportConfig) -> tuple:
    """What decides the source model: two configurations with equal keys get the same model and graph."""
    weights = config.weights_path
    stamp = (str(weights), weights.stat().st_size, weights.stat().st_mtime_ns) if weights and weights.is_file() else None
    return (config.model_factory, config.arch, config.num_classes, config.input_size, config.width_divisor,
            config.seed, stamp)


def load_source_model(config: ExportConfig) -> tuple[SourceModel, ExportConfig]:
    """The model of `config` with its graph, and `config` with its split points (and head size) resolved.

    The last model loaded is kept: a study exporting one folder in several parts (scripts/split_study_export.py)
    builds and traces its model once (about 3 s for a full-size VGG-16, measured)."""
    key = source_model_key(config)
    if _last_loaded and _last_loaded[0][0] == key:
        source = _last_loaded[0][1]
        resolved = config if config.model_factory is None else resolve_splits(config, source.graph, source_classes(source))
        return source, resolved
    source, resolved = _build_source_model(config)
    _last_loaded[:] = [(key, source)]
    return source, resolved


def source_classes(source: SourceModel) -> int:
    return int(source.graph.graph_module(torch.zeros(source.graph.input_shape)).shape[-1])


def _build_source_model(config: ExportConfig) -> tuple[SourceModel, ExportConfig]:
    if config.model_factory is None:
        shape = ModelShape(config.num_classes or 2, config.input_size, config.width_divisor)
        model = seeded_model(config.arch, shape, config.seed)
        weights_id = _load(model, config.weights_path, config.arch) or f"seed:{config.seed}"
        model_id = f"{config.arch}:classes={shape.num_classes}:size={shape.input_size}:divisor={shape.width_divisor}"
        graph = architecture_graph(config.arch, model, config.input_size)
        return SourceModel(model, graph, weights_id, model_id, config.arch), config
    spec = parse_factory(config.model_factory)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        model = build_from_factory(spec, config.num_classes, config.input_size)
    weights_id = _load(model, config.weights_path, spec.label) or f"factory:{spec.text}:seed:{config.seed}"
    graph = trace_model(model, config.input_size)
    output = graph.graph_module(torch.zeros(graph.input_shape)).shape
    model_id = f"{spec.text}:classes={output[-1]}:size={config.input_size}"
    return SourceModel(model, graph, weights_id, model_id, spec.label), resolve_splits(config, graph, output[-1])


def _load(model: nn.Module, path: Path | None, label: str) -> str | None:
    if path is None:
        return None
    load_weights(model, path, label)
    return f"sha256:{file_sha256(path)}"


def default_split_points(graph: ModelGraph) -> tuple[str, ...]:
    """The first cut point past each of DEFAULT_FLOP_FRACTIONS of the model's FLOPs (no repeats)."""
    if not graph.cut_points:
        return ()
    total = max(cut.cumulative_flops for cut in graph.cut_points) or 1
    chosen: list[str] = []
    for fraction in DEFAULT_FLOP_FRACTIONS:
        cut = next((c for c in graph.cut_points if c.cumulative_flops >= fraction * total), graph.cut_points[-1])
        if cut.name not in chosen:
            chosen.append(cut.name)
    return tuple(chosen)


def resolve_splits(config: ExportConfig, graph: ModelGraph, num_classes: int) -> ExportConfig:
    """A factory model's config with its split points checked against the graph (defaults chosen if none)."""
    splits = config.splits or default_split_points(graph)
    if not splits:
        raise ConfigError("the model's graph offers no split point (no place where one tensor carries "
                          "everything the rest needs); export it with --no-reduced and no splits")
    names = tuple(graph.cut_point(name).name for name in splits)
    k_by_split = dict(config.k_by_split)
    if not config.splits:
        k_by_split = {name: k for name, k in zip(names, DEFAULT_K, strict=False)} | k_by_split
    for split in k_by_split:
        graph.cut_point(split)
    return replace(config, splits=names, k_by_split=k_by_split, num_classes=num_classes)
