"""scripts/bench_int8_sensitivity.py: int8's error per split point beside the growth of a one-off fp32 perturbation."""

from __future__ import annotations

import pytest

from export.architectures import seeded_model, split_point_names
from export.calibration import synthetic_calibration
from export.models import ModelShape
from scripts import bench_int8_sensitivity as sensitivity

SIZE = 32


@pytest.fixture(scope="module")
def resnet18():
    return seeded_model("resnet18", ModelShape(num_classes=2, input_size=SIZE), 0)


@pytest.mark.slow  # traces resnet18 and runs its graph image by image, twice
def test_the_perturbation_has_its_stated_size_where_it_is_added_and_is_followed_to_the_end(resnet18):
    heldout = synthetic_calibration(3, SIZE, 7).images
    growth = sensitivity.fp32_noise_growth(resnet18, "resnet18", "layer1", 0.05, heldout)
    points = list(split_point_names("resnet18"))
    assert list(growth) == points[points.index("layer1"):]
    assert growth["layer1"] == pytest.approx(0.05, rel=1e-5)
    assert all(error > 0 for error in growth.values())
    assert sensitivity.fp32_noise_growth(resnet18, "resnet18", "layer1", 0.0, heldout)["layer4"] == 0.0


@pytest.mark.slow
def test_int8_error_is_measured_against_the_fp32_client_and_reported(resnet18, capsys):
    calibration, heldout = synthetic_calibration(4, SIZE, 0).images, synthetic_calibration(2, SIZE, 9).images
    int8 = sensitivity.int8_errors(resnet18, "resnet18", ["stem"], calibration, heldout)
    assert 0.99 < int8["stem"]["cosine_similarity_mean"] <= 1.0 and 0 < int8["stem"]["relative_error"] < 0.1
    sensitivity.report("resnet18", ["stem"], int8, {"stem": int8["stem"]["relative_error"]})
    row = capsys.readouterr().out.strip().splitlines()[-1].split()
    assert row[0] == "stem" and float(row[-1]) == pytest.approx(1.0)


def test_weights_with_more_than_one_architecture_is_one_error(tmp_path, capsys):
    assert sensitivity.main(["--arch", "resnet18,mobilenet_v2", "--weights", str(tmp_path / "w.pth")]) == 2
    assert capsys.readouterr().err.strip() == ("bench_int8_sensitivity: --weights belong to one architecture: "
                                               "give a single --arch with them")
