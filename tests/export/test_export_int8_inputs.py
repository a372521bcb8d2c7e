"""The images int8 programs are calibrated and measured on, and what their cache keys depend on."""
from PIL import Image

from export.cache import program_cache_key
from export.calibration import synthetic_calibration
from export.config import ExportConfig
from export.int8_writer import quantization_key
from export.reduction_setup import HELDOUT_SEED_OFFSET, load_calibration, load_heldout


def write_images(folder, count):
    folder.mkdir()
    for index in range(count):
        Image.new("RGB", (40, 40), (index * 40, 255 - index * 40, 7)).save(folder / f"img{index:02d}.png")


def config(tmp_path, **changes) -> ExportConfig:
    return ExportConfig(**{"out_dir": tmp_path / "out", "width_divisor": 16, "input_size": 32,
                           "include_reduced": False, "backends": ("xnnpack_int8",), **changes})


def test_heldout_images_are_the_next_images_of_the_calibration_folder(tmp_path):
    write_images(tmp_path / "images", 5)
    cfg = config(tmp_path, calibration_dir=tmp_path / "images", calibration_count=3, accuracy_count=4)
    calibration, heldout = load_calibration(cfg), load_heldout(cfg)
    assert calibration.count == 3 and heldout.count == 2  # only two images are left after the calibration ones
    assert heldout.source == f"dir:{tmp_path / 'images'}+3" and calibration.source == f"dir:{tmp_path / 'images'}"
    assert heldout.fingerprint != calibration.fingerprint
    assert heldout.tensor_sha256() != calibration.tensor_sha256()


def test_heldout_images_are_synthetic_of_another_seed_when_the_folder_is_used_up(tmp_path):
    write_images(tmp_path / "images", 3)
    cfg = config(tmp_path, calibration_dir=tmp_path / "images", calibration_count=3, accuracy_count=4, seed=2)
    heldout = load_heldout(cfg)
    assert heldout.count == 4 and heldout.source == f"synthetic:seed={2 + HELDOUT_SEED_OFFSET}:size=32"
    assert load_heldout(config(tmp_path, seed=2, accuracy_count=4)).fingerprint == heldout.fingerprint
    assert heldout.tensor_sha256() != synthetic_calibration(4, 32, 2).tensor_sha256()


def test_cache_key_changes_with_arch_and_with_the_calibration_images():
    tools = {"torch": "x"}
    common = dict(program_id="full.xnnpack_int8", configuration="full", role="full", split_point=None,
                  backend="xnnpack_int8", weights_id="seed:0", model_id="m", projection_key=None,
                  noise_variance=None, tools=tools)
    calibration, heldout = synthetic_calibration(4, 32, 0), synthetic_calibration(4, 32, 9)
    key = program_cache_key(arch="resnet18", quantization=quantization_key(calibration, heldout), **common)
    assert key == program_cache_key(arch="resnet18", quantization=quantization_key(calibration, heldout), **common)
    assert key != program_cache_key(arch="resnet50", quantization=quantization_key(calibration, heldout), **common)
    other = synthetic_calibration(5, 32, 0)
    assert key != program_cache_key(arch="resnet18", quantization=quantization_key(other, heldout), **common)
    assert key != program_cache_key(arch="resnet18", quantization=quantization_key(calibration, other), **common)
    assert key != program_cache_key(arch="resnet18", quantization=None, **common)
