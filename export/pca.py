"""PCA of client features: fit, and save/load the fitted projection (keyed so a changed input is never reused)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from export.errors import CalibrationError, ConfigError, ProjectionFileError

PROJECTION_SCHEMA = "splitbench.pca_projection"
PROJECTION_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PcaProjection:
    """The k leading principal directions of flattened client features at one split point.

    `mean` has shape (D,), `components` (k, D) with orthonormal rows; `key` identifies what it was fitted from.
    """

    split_point: str
    k: int
    mean: torch.Tensor
    components: torch.Tensor
    explained_variance_ratio: float
    key: str

    @property
    def feature_size(self) -> int:
        return int(self.mean.shape[0])


def projection_key(weights_id: str, model_id: str, split_point: str, k: int, calibration_fingerprint: str) -> str:
    """Hex sha256 identifying a projection: weights, model shape, split point, k and calibration images."""
    text = "\n".join([weights_id, model_id, split_point, str(k), calibration_fingerprint])
    return hashlib.sha256(text.encode()).hexdigest()


def check_k_against_samples(split_point: str, k: int, sample_count: int) -> None:
    """Raise CalibrationError unless there are more calibration images than components (the centred data of
    n images has rank at most n - 1)."""
    if k >= sample_count:
        raise CalibrationError(f"k={k} for {split_point} needs at least {k + 1} calibration images, got "
                               f"{sample_count}; add images or raise --calibration-count, or pass a smaller --k")


def check_k_against_features(split_point: str, k: int, feature_size: int) -> None:
    """Raise ConfigError if k exceeds the flattened feature size at the split point."""
    if k > feature_size:
        raise ConfigError(f"k={k} for {split_point} exceeds the feature size {feature_size}; pass a smaller --k")


def fit_pca(features: torch.Tensor, split_point: str, k: int, key: str) -> PcaProjection:
    """Fit the k leading components of `features` (N, D) by SVD of the centred matrix (in float64)."""
    sample_count, feature_size = features.shape
    check_k_against_features(split_point, k, feature_size)
    check_k_against_samples(split_point, k, sample_count)
    data = features.to(torch.float64)
    mean = data.mean(dim=0)
    _, singular_values, right_vectors = torch.linalg.svd(data - mean, full_matrices=False)
    components = right_vectors[:k]
    signs = torch.sign(components.gather(1, components.abs().argmax(dim=1, keepdim=True)))
    components = components * signs
    variance = singular_values**2
    total = float(variance.sum())
    ratio = float(variance[:k].sum()) / total if total > 0 else 0.0
    return PcaProjection(split_point, k, mean.to(torch.float32), components.to(torch.float32).contiguous(), ratio, key)


def save_projection(path: Path, projection: PcaProjection) -> None:
    """Write the projection with torch.save (atomically: a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "schema": PROJECTION_SCHEMA, "schema_version": PROJECTION_SCHEMA_VERSION,
        "split_point": projection.split_point, "k": projection.k, "key": projection.key,
        "explained_variance_ratio": projection.explained_variance_ratio,
        "mean": projection.mean, "components": projection.components,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    temporary.replace(path)


def load_projection(path: Path) -> PcaProjection:
    """Read a projection saved by save_projection; raise ProjectionFileError on any other content."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt files
        raise ProjectionFileError(f"projection file {path} cannot be read ({type(error).__name__}); "
                                  "delete it to refit") from error
    if not isinstance(payload, dict) or payload.get("schema") != PROJECTION_SCHEMA:
        raise ProjectionFileError(f"{path} is not a {PROJECTION_SCHEMA} file; delete it to refit")
    if payload.get("schema_version") != PROJECTION_SCHEMA_VERSION:
        raise ProjectionFileError(f"projection file {path} has schema_version {payload.get('schema_version')!r}, "
                                  f"this version reads {PROJECTION_SCHEMA_VERSION}; delete it to refit")
    return PcaProjection(payload["split_point"], int(payload["k"]), payload["mean"], payload["components"],
                         float(payload["explained_variance_ratio"]), payload["key"])


def load_or_fit_projection(path: Path, key: str, features_for_fit: Callable[[], torch.Tensor], split_point: str,
                           k: int) -> tuple[PcaProjection, bool]:
    """Reuse the projection at `path` if its key matches, else fit it from `features_for_fit()` and save it.

    Returns the projection and whether it was fitted now.
    """
    if path.is_file():
        try:
            projection = load_projection(path)
        except ProjectionFileError:
            projection = None
        if projection is not None and projection.key == key:
            return projection, False
    projection = fit_pca(features_for_fit(), split_point, k, key)
    save_projection(path, projection)
    return projection, True
