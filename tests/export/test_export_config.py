"""Defaults of the export configuration, option parsing, and the calibration images."""
import pytest
import torch
from PIL import Image

from export.calibration import load_calibration_dir, synthetic_calibration
from export.cli import build_parser, config_from_args
from export.config import ExportConfig
from export.errors import CalibrationError


def test_default_command_asks_for_the_seven_paper_configurations(tmp_path, monkeypatch):
    monkeypatch.delenv("SPLITBENCH_PROGRAM_STORE", raising=False)
    config = config_from_args(build_parser().parse_args(["--out", str(tmp_path)]))
    assert config.splits == ("conv5_1", "conv5_2", "conv5_3")
    assert [config.k_for(s) for s in config.splits] == [8, 6, 4]
    # the device programs only: no cloud remainder unless a study asks for one
    assert config.backends == ("xnnpack", "portable", "lite") and config.cloud_backends == ()
    assert config.program_store is None and config.workers is None
    assert (config.num_classes, config.input_size, config.width_divisor, config.seed) == (2, 224, 1, 0)
    assert config.include_full and config.include_reduced and config.noisy_splits() == ()


def test_options_reach_the_configuration(tmp_path):
    args = build_parser().parse_args(["--out", str(tmp_path), "--splits", "conv4_3,conv5_3", "--k", "conv4_3=5",
                                      "--noise-variance", "0.25", "--noise-splits", "conv5_3",
                                      "--backends", "lite", "--cloud-backends", "none", "--width-divisor", "8"])
    config = config_from_args(args)
    assert config.k_for("conv4_3") == 5 and config.k_for("conv5_3") == 4
    assert config.noisy_splits() == ("conv5_3",) and config.noise_variance == 0.25
    assert config.backends == ("lite",) and config.cloud_backends == () and config.width_divisor == 8


def test_lists_given_as_lists_become_tuples(tmp_path):
    config = ExportConfig(out_dir=str(tmp_path), splits=["conv5_2"], backends=["lite"])
    assert config.splits == ("conv5_2",) and config.backends == ("lite",) and config.out_dir == tmp_path


def test_synthetic_calibration_is_deterministic_and_varied():
    first = synthetic_calibration(count=6, input_size=32, seed=0)
    again = synthetic_calibration(count=6, input_size=32, seed=0)
    other = synthetic_calibration(count=6, input_size=32, seed=1)
    assert first.images.shape == (6, 3, 32, 32)
    assert torch.equal(first.images, again.images) and first.fingerprint == again.fingerprint
    assert not torch.equal(first.images, other.images) and first.fingerprint != other.fingerprint
    assert first.images.flatten(1).std(dim=0).mean() > 0.1  # the images differ from one another


def test_calibration_folder_is_resized_normalised_and_fingerprinted(tmp_path):
    for index, colour in enumerate([(255, 0, 0), (0, 128, 255), (10, 200, 30)]):
        Image.new("RGB", (50 + 10 * index, 40), colour).save(tmp_path / f"img{index}.png")
    (tmp_path / "notes.txt").write_text("ignored")
    calibration = load_calibration_dir(tmp_path, count=10, input_size=32)
    assert calibration.images.shape == (3, 3, 32, 32)
    red = calibration.images[0, :, 16, 16]
    torch.testing.assert_close(red, torch.tensor([(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225]))
    Image.new("RGB", (50, 40), (0, 0, 0)).save(tmp_path / "img0.png")
    assert load_calibration_dir(tmp_path, count=10, input_size=32).fingerprint != calibration.fingerprint


def test_undecodable_calibration_image_is_named(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(CalibrationError, match="calibration image .*broken.jpg cannot be decoded"):
        load_calibration_dir(tmp_path, count=4, input_size=32)
