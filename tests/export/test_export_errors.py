"""Bad input gives one clear error: its type and message, and from the command line one stderr line and exit 2."""
import subprocess
import sys

import pytest
import torch

from export.cli import main
from export.config import ExportConfig, parse_k_option
from export.errors import CalibrationError, ConfigError, OutputNotWritable, WeightsError
from export.models import ModelShape, load_weights, seeded_vgg16
from export.pipeline import run_export

SMALL = dict(width_divisor=16, input_size=32)


def small_state_dict():
    return seeded_vgg16(ModelShape(2, 32, 16), seed=3).state_dict()


def test_unknown_split_point(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown split point 'conv5_4'; valid split points: features.0, conv1_1, .*pool5"):
        ExportConfig(out_dir=tmp_path, splits=("conv5_4",))


def test_split_without_default_k_asks_for_one(tmp_path):
    with pytest.raises(ConfigError, match=r"no default k for split point 'pool4'; pass --k pool4=N"):
        ExportConfig(out_dir=tmp_path, splits=("pool4",))


def test_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="unknown backend 'tflite'; valid backends: xnnpack, portable, lite"):
        ExportConfig(out_dir=tmp_path, backends=("tflite",))


def test_bad_k_option_text():
    with pytest.raises(ConfigError, match="--k must be a number or split=number pairs"):
        parse_k_option("conv5_1=eight", ("conv5_1",))
    assert parse_k_option("5", ("conv5_1", "conv5_2")) == {"conv5_1": 5, "conv5_2": 5}


@pytest.mark.slow
def test_k_larger_than_the_feature_is_refused_before_exporting(tmp_path):
    config = ExportConfig(out_dir=tmp_path, splits=("conv5_3",), k_by_split={"conv5_3": 129}, backends=("lite",),
                          calibration_count=200, **SMALL)
    with pytest.raises(ConfigError, match="k=129 for conv5_3 exceeds the feature size 128"):
        run_export(config)
    assert not list(tmp_path.glob("*.ptl"))


@pytest.mark.slow
def test_k_not_below_the_calibration_count_is_refused(tmp_path):
    config = ExportConfig(out_dir=tmp_path, splits=("conv5_1",), backends=("lite",), calibration_count=8, **SMALL)
    with pytest.raises(CalibrationError, match="k=8 for conv5_1 needs at least 9 calibration images, got 8"):
        run_export(config)


@pytest.mark.slow
def test_missing_calibration_folder(tmp_path):
    config = ExportConfig(out_dir=tmp_path / "out", calibration_dir=tmp_path / "nowhere", backends=("lite",), **SMALL)
    with pytest.raises(CalibrationError, match="calibration folder .*nowhere does not exist"):
        run_export(config)


@pytest.mark.slow
def test_missing_weights_file(tmp_path):
    model = seeded_vgg16(ModelShape(2, 32, 16), seed=0)
    with pytest.raises(WeightsError, match="weights file .*absent.pt does not exist"):
        load_weights(model, tmp_path / "absent.pt")


@pytest.mark.slow
def test_weights_with_a_missing_key_name_it(tmp_path):
    state = small_state_dict()
    del state["features.0.bias"]
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"lacks key 'features.0.bias' \(1 missing\)"):
        load_weights(seeded_vgg16(ModelShape(2, 32, 16), seed=0), tmp_path / "w.pt")


@pytest.mark.slow
def test_weights_with_an_unexpected_key_name_it(tmp_path):
    state = small_state_dict()
    state["module.extra"] = torch.zeros(1)
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"unexpected key 'module.extra'"):
        load_weights(seeded_vgg16(ModelShape(2, 32, 16), seed=0), tmp_path / "w.pt")


@pytest.mark.slow
def test_weights_with_a_wrong_shape_name_the_key_and_shapes(tmp_path):
    torch.save(seeded_vgg16(ModelShape(1000, 32, 16), seed=0).state_dict(), tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"key 'classifier.6.weight' has shape \[1000, 256\], the model needs "
                                           r"\[2, 256\]; check --num-classes"):
        load_weights(seeded_vgg16(ModelShape(2, 32, 16), seed=0), tmp_path / "w.pt")


@pytest.mark.slow
def test_weights_that_are_not_a_state_dict(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="cannot be read by torch.load"):
        load_weights(seeded_vgg16(ModelShape(2, 32, 16), seed=0), tmp_path / "w.pt")


@pytest.mark.slow
def test_matching_weights_are_loaded_and_named_by_hash(tmp_path):
    state = small_state_dict()
    torch.save(state, tmp_path / "w.pt")
    manifest = run_export(ExportConfig(out_dir=tmp_path / "out", weights_path=tmp_path / "w.pt", include_reduced=False,
                                       splits=("conv5_3",), backends=("lite",), cloud_backends=(), **SMALL))
    assert manifest.model.weights.startswith("sha256:") and len(manifest.model.weights) == 7 + 64
    from torch.jit.mobile import _load_for_lite_interpreter

    model = seeded_vgg16(ModelShape(2, 32, 16), seed=0)
    model.load_state_dict(state)
    image = torch.randn(1, 3, 32, 32)
    program = _load_for_lite_interpreter(str(tmp_path / "out" / "full.lite.ptl"))
    with torch.no_grad():
        torch.testing.assert_close(program(image), model(image), atol=1e-5, rtol=1e-5)


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(OutputNotWritable, match="output folder .*a_file/out is not writable.*pass --out"):
        run_export(ExportConfig(out_dir=blocker / "out", backends=("lite",), **SMALL))


def test_cli_reports_one_line_and_exit_code_2(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--splits", "conv5_1,conv9_9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("export: error: unknown split point 'conv9_9'")


@pytest.mark.slow
def test_cli_module_runs_and_prints_the_manifest_path(tmp_path):
    result = subprocess.run([sys.executable, "-m", "export", "--out", str(tmp_path), "--width-divisor", "16",
                             "--input-size", "32", "--splits", "conv5_3", "--no-reduced", "--no-full",
                             "--backends", "lite", "--cloud-backends", "none"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "program exported: conv5_3_simple.lite" in result.stdout
    assert f"manifest: {tmp_path / 'manifest.json'}" in result.stdout
