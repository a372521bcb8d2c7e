"""PCA fit, round trip through the projection/reconstruction heads, and the saved projection file."""
import pytest
import torch

from export.calibration import synthetic_calibration
from export.errors import CalibrationError, ConfigError, ProjectionFileError
from export.feature_collection import collect_split_features
from export.models import ModelShape, seeded_vgg16
from export.pca import fit_pca, load_or_fit_projection, load_projection, projection_key, save_projection
from export.reduction_heads import PcaProjectionHead, PcaReconstructionHead
from export.split_model import split_vgg16

SMALL = ModelShape(num_classes=2, input_size=32, width_divisor=16)


@pytest.fixture(scope="module")
def conv5_features():
    model = seeded_vgg16(SMALL, seed=0)
    images = synthetic_calibration(count=24, input_size=32, seed=0).images
    return model, images, collect_split_features(model, images, ("conv5_1", "conv5_3"), batch_size=5)


def test_collected_features_equal_the_client_output(conv5_features):
    model, images, features = conv5_features
    with torch.no_grad():
        expected = split_vgg16(model, "conv5_1", 32).client(images[:3].clone()).flatten(1)
    torch.testing.assert_close(features["conv5_1"][:3], expected, rtol=0, atol=0)
    assert features["conv5_3"].shape == (24, 128)


def test_components_are_orthonormal_and_variance_ratio_grows_with_k(conv5_features):
    _, _, features = conv5_features
    ratios = []
    for k in (2, 4, 8, 23):
        projection = fit_pca(features["conv5_1"], "conv5_1", k, key="test")
        gram = projection.components @ projection.components.t()
        torch.testing.assert_close(gram, torch.eye(k), atol=1e-5, rtol=0)
        ratios.append(projection.explained_variance_ratio)
    assert ratios == sorted(ratios) and 0 < ratios[0] < 1
    assert ratios[-1] == pytest.approx(1.0, abs=1e-6)  # n-1 components span the centred data


def test_round_trip_error_on_fitted_features_is_the_unexplained_variance(conv5_features):
    _, _, features = conv5_features
    data = features["conv5_1"]
    projection = fit_pca(data, "conv5_1", 8, key="test")
    feature_map = data.reshape(-1, 32, 2, 2)
    with torch.no_grad():
        restored = PcaReconstructionHead(projection, (1, 32, 2, 2))(PcaProjectionHead(projection)(feature_map))
    residual = float(((restored.flatten(1) - data) ** 2).sum())
    total = float(((data - data.mean(0)) ** 2).sum())
    measured_unexplained = residual / total
    assert measured_unexplained == pytest.approx(1 - projection.explained_variance_ratio, abs=1e-4)
    assert measured_unexplained < 0.2  # k=8 of 128 dims keeps over 80% of the variance on these features
    full_rank = fit_pca(data, "conv5_1", 23, key="test")
    with torch.no_grad():
        exact = PcaReconstructionHead(full_rank, (1, 32, 2, 2))(PcaProjectionHead(full_rank)(feature_map))
    torch.testing.assert_close(exact.flatten(1), data, atol=1e-4, rtol=1e-4)


def test_k_larger_than_feature_size_is_refused():
    with pytest.raises(ConfigError, match="k=200 for conv5_3 exceeds the feature size 128"):
        fit_pca(torch.randn(300, 128), "conv5_3", 200, key="test")


def test_k_needs_more_calibration_images_than_components():
    with pytest.raises(CalibrationError, match="needs at least 9 calibration images, got 8"):
        fit_pca(torch.randn(8, 128), "conv5_1", 8, key="test")


def test_projection_file_round_trip_and_reuse(tmp_path, conv5_features):
    _, _, features = conv5_features
    key = projection_key("seed:0", "small", "conv5_1", 4, "synthetic")
    projection = fit_pca(features["conv5_1"], "conv5_1", 4, key)
    path = tmp_path / "pca" / "conv5_1.pt"
    save_projection(path, projection)
    loaded = load_projection(path)
    torch.testing.assert_close(loaded.components, projection.components, rtol=0, atol=0)
    assert (loaded.k, loaded.key, loaded.explained_variance_ratio) == (4, key, projection.explained_variance_ratio)

    def must_not_fit():
        raise AssertionError("a saved projection with the same key must be reused")

    reused, fitted = load_or_fit_projection(path, key, must_not_fit, "conv5_1", 4)
    assert not fitted and reused.key == key
    other_key = projection_key("seed:1", "small", "conv5_1", 4, "synthetic")
    refit, fitted = load_or_fit_projection(path, other_key, lambda: features["conv5_1"], "conv5_1", 4)
    assert fitted and load_projection(path).key == other_key


def test_projection_file_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "p.pt"
    torch.save({"schema": "splitbench.pca_projection", "schema_version": 99}, path)
    with pytest.raises(ProjectionFileError, match="schema_version 99.*reads 1"):
        load_projection(path)
