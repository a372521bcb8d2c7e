"""Fit (or reuse) the PCA projection of every split point the configuration reduces."""
from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

from export.architectures import architecture_graph
from export.cache import ProgramStore
from export.calibration import CalibrationSet, image_paths, load_calibration_dir, synthetic_calibration
from export.config import ExportConfig
from export.events import PROJECTION_FITTED, PROJECTION_REUSED, EventSink, ExportEvent
from export.feature_collection import collect_split_features
from export.graph_split import ModelGraph
from export.pca import check_k_against_samples, load_or_fit_projection, projection_key
from export.programs import ReducedSplit

PROJECTION_FOLDER = "pca"
HELDOUT_SEED_OFFSET = 1_000_003  # held-out synthetic images use seed + this, so they never repeat calibration ones


def load_calibration(config: ExportConfig) -> CalibrationSet:
    """The calibration photos (export.photos), the configured calibration folder, or the synthetic set seeded by
    the model seed."""
    if config.calibration_photos:
        from export.photos import calibration_set

        return calibration_set(config.calibration_count, config.input_size)
    if config.calibration_dir is not None:
        return load_calibration_dir(config.calibration_dir, config.calibration_count, config.input_size)
    return synthetic_calibration(config.calibration_count, config.input_size, config.seed)


def load_heldout(config: ExportConfig) -> CalibrationSet:
    """Images for the int8 accuracy figures, never among the calibration ones: the next `accuracy_count` images
    of the calibration folder, or (folder exhausted, or no folder) synthetic images of another seed; with
    calibration photos, the evaluation photos (export.photos)."""
    if config.calibration_photos:
        from export.photos import heldout_set

        return heldout_set(config.input_size)
    if config.calibration_dir is not None and len(image_paths(config.calibration_dir)) > config.calibration_count:
        return load_calibration_dir(config.calibration_dir, config.accuracy_count, config.input_size,
                                    skip=config.calibration_count)
    return synthetic_calibration(config.accuracy_count, config.input_size, config.seed + HELDOUT_SEED_OFFSET)


def prepare_reductions(config: ExportConfig, model: nn.Module | ModelGraph, weights_id: str, model_id: str, out_dir: Path,
                       on_event: EventSink, calibration: CalibrationSet | None = None,
                       store: ProgramStore | None = None) -> dict[str, ReducedSplit]:
    """One ReducedSplit per split point; calibration features are computed once, only if some fit is needed.
    With a program store, a projection another folder fitted from the same inputs is linked from it."""
    if not config.include_reduced:
        return {}
    calibration = calibration if calibration is not None else load_calibration(config)
    graph = model if isinstance(model, ModelGraph) else architecture_graph(config.arch, model, config.input_size)
    for split in config.split_points:
        check_k_against_samples(split, config.k_for(split), calibration.count)
    features_cache: dict[str, torch.Tensor] = {}

    def features_for(split: str) -> torch.Tensor:
        if not features_cache:
            features_cache.update(collect_split_features(graph, calibration.images, config.split_points))
        return features_cache[split]

    reduced = {}
    for split in config.split_points:
        k = config.k_for(split)
        key = projection_key(weights_id, model_id, split, k, calibration.fingerprint)
        relative = f"{PROJECTION_FOLDER}/{split}_k{k}_{key[:12]}.pt"
        if store is not None:
            store.link_projection(key, out_dir / relative)
        projection, fitted = load_or_fit_projection(out_dir / relative, key, functools.partial(features_for, split), split, k)
        if store is not None:
            store.add_projection(key, out_dir / relative)
        on_event(ExportEvent(PROJECTION_FITTED if fitted else PROJECTION_REUSED, relative,
                             f"explained variance ratio {projection.explained_variance_ratio:.4f}"))
        reduced[split] = ReducedSplit(projection, relative, calibration.fingerprint)
    return reduced
