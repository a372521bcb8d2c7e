"""int8 programs (backend xnnpack_int8): they run in executorch.runtime and in the native host runner and agree with
the PT2E-converted model in Python; the manifest records the quantization, the calibration set and sane accuracy
figures; quantization without calibration data is refused.

Agreement tolerance, program vs PT2E-converted module on the same input: |a - b| <= 0.02 * max|b| + 1e-4 per
value (XNNPACK's int8 kernels and the Python reference round at different places: a few quantization steps).
"""
import fcntl
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from export.architectures import seeded_model
from export.calibration import synthetic_calibration
from export.config import ExportConfig
from export.errors import QuantizationError
from export.int8_writer import write_int8_pte
from export.models import ModelShape
from export.pca import load_projection
from export.pipeline import MANIFEST_NAME, run_export
from export.programs import ReducedSplit, plan_programs
from export.quantization import build_int8_program, quantize_pt2e
from formats.manifest import load_manifest, program_file

pytestmark = pytest.mark.slow  # exports and calibrates int8 programs

INT8_EXPORT_CACHE = "splitbench_int8_export"
RELATIVE_TOLERANCE, ABSOLUTE_TOLERANCE = 0.02, 1e-4
SIZE = 32


def int8_config(out_dir: Path) -> ExportConfig:
    """VGG-16 at width/16 and 32 px, split at conv5_1, simple and reduced (k=8), everything int8."""
    return ExportConfig(out_dir=out_dir, width_divisor=16, input_size=SIZE, splits=("conv5_1",),
                        backends=("xnnpack_int8",), cloud_backends=("xnnpack_int8",), calibration_count=16,
                        accuracy_count=8)


@pytest.fixture(scope="module")
def int8_export(request, tmp_path_factory):
    """(manifest path, manifest, config) of the small int8 export, built once into pytest's cache folder."""
    cache = getattr(request.config, "cache", None)
    build = Path(cache.mkdir(INT8_EXPORT_CACHE)) if cache is not None else tmp_path_factory.mktemp("int8_build")
    with open(build.parent / (build.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run_export(int8_config(build))
        out = tmp_path_factory.mktemp("int8") / "export"
        shutil.copytree(build, out)
    manifest_path = out / MANIFEST_NAME
    return manifest_path, load_manifest(manifest_path), int8_config(out)


@pytest.fixture(scope="module")
def converted_modules(int8_export):
    """The PT2E-converted module of every program, quantized in Python on the same calibration images."""
    manifest_path, manifest, config = int8_export
    model = seeded_model("vgg16", ModelShape(2, SIZE, 16), seed=0)
    entry = manifest.program("conv5_1_reduced.xnnpack_int8")
    projection = load_projection(manifest_path.parent / entry.reduction.projection_file)
    reduced = {"conv5_1": ReducedSplit(projection, entry.reduction.projection_file, entry.reduction.calibration)}
    images = synthetic_calibration(config.calibration_count, SIZE, config.seed).images
    converted = {}
    for spec in plan_programs(config, model, reduced):
        converted[spec.program_id] = (quantize_pt2e(spec.module, spec.example_input,
                                                    spec.inputs_from_images(images)), spec)
    return converted


def within_tolerance(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, rtol=0,
                               atol=float(RELATIVE_TOLERANCE * expected.abs().max() + ABSOLUTE_TOLERANCE))


def test_int8_export_lists_every_program_with_quantization(int8_export):
    _, manifest, _ = int8_export
    assert [e.id for e in manifest.programs] == [
        "full.xnnpack_int8", "conv5_1_simple.xnnpack_int8", "conv5_1_simple.cloud.xnnpack_int8",
        "conv5_1_reduced.xnnpack_int8", "conv5_1_reduced.cloud.xnnpack_int8"]
    for entry in manifest.programs:
        assert entry.dtype == "int8" and entry.format == "pte" and entry.arch == "vgg16"
        assert entry.quantization.scheme == "pt2e_static_int8"
        assert "per output channel" in entry.quantization.weights
        calibration = entry.quantization.calibration
        assert calibration.count == 16 and calibration.source == "synthetic:seed=0:size=32"
        assert calibration.sha256 == synthetic_calibration(16, SIZE, 0).tensor_sha256()


def test_int8_programs_are_delegated_to_xnnpack(int8_export):
    manifest_path, manifest, _ = int8_export
    for entry in manifest.programs:
        assert b"XnnpackBackend" in program_file(manifest_path, entry).read_bytes(), entry.id


def test_accuracy_figures_are_present_and_sane(int8_export):
    _, manifest, _ = int8_export
    for entry in manifest.programs:
        accuracy = entry.accuracy
        assert accuracy.heldout.count == 8 and accuracy.heldout.source != entry.quantization.calibration.source
        assert accuracy.heldout.sha256 != entry.quantization.calibration.sha256
        assert -1.0 <= accuracy.cosine_similarity_min <= accuracy.cosine_similarity_mean <= 1.0 + 1e-9, entry.id
        assert 0.0 < accuracy.relative_error < 1.0, entry.id  # int8 is not exact, and not unrelated either
        if entry.role == "client":
            # Many values per image: int8 features point the same way as fp32 ones.
            assert accuracy.top1_agreement is None and accuracy.cosine_similarity_min > 0.95, entry.id
        else:  # two class scores per image: cosine and relative error are coarse, top-1 agreement is the figure
            assert 0.0 <= accuracy.top1_agreement <= 1.0 and accuracy.top1_agreement * 8 == round(
                accuracy.top1_agreement * 8)
        assert "random weights (seed:0)" in accuracy.note and "not task accuracy" in accuracy.note


def test_program_in_executorch_runtime_agrees_with_the_converted_model(int8_export, converted_modules):
    from executorch.runtime import Runtime

    manifest_path, manifest, _ = int8_export
    image = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(11))
    for entry in manifest.programs:
        converted, spec = converted_modules[entry.id]
        program_input = spec.inputs_from_images(image)[0]
        method = Runtime.get().load_program(str(program_file(manifest_path, entry))).load_method("forward")
        actual = method.execute([program_input.clone()])[0]
        with torch.no_grad():
            expected = converted(program_input.clone())
        assert actual.shape == expected.shape and list(actual.shape) == entry.output_shape
        within_tolerance(actual, expected)


@pytest.mark.parametrize("program_id", ["full.xnnpack_int8", "conv5_1_simple.xnnpack_int8"])
def test_program_in_the_native_runner_agrees_with_the_converted_model(program_id, int8_export, converted_modules,
                                                                       host_runner_bundle, tmp_path):
    manifest_path, manifest, _ = int8_export
    image = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(12))
    raw = tmp_path / "input.raw"
    raw.write_bytes(image.contiguous().numpy().tobytes())
    result_path = tmp_path / "result.json"
    completed = subprocess.run(
        [str(host_runner_bundle / "splitbench_runner"), "--model", str(program_file(manifest_path,
                                                                                     manifest.program(program_id))),
         "--iterations", "2", "--warmup", "1", "--core", "-1", "--input", str(raw), "--output-json",
         str(result_path)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(result_path.read_text())
    assert result["status"] == "ok" and len(result["timing"]["inference_ms"]) == 2
    converted, _ = converted_modules[program_id]
    with torch.no_grad():
        expected = converted(image.clone()).flatten()
    first = torch.tensor(result["output"]["first_values"], dtype=torch.float32)
    assert result["output"]["shape"] == manifest.program(program_id).output_shape
    within_tolerance(first, expected[:first.numel()])


def test_quantization_without_calibration_data_is_refused(tmp_path):
    config = ExportConfig(out_dir=tmp_path, width_divisor=16, input_size=SIZE, splits=("conv5_1",),
                          include_reduced=False, backends=("xnnpack_int8",), cloud_backends=())
    model = seeded_model("vgg16", ModelShape(2, SIZE, 16), seed=0)
    spec = plan_programs(config, model, {})[0]
    heldout = synthetic_calibration(2, SIZE, 5)
    with pytest.raises(QuantizationError, match=r"full.xnnpack_int8 asks for xnnpack_int8 but has no calibration "
                                                r"data: static int8 quantization needs calibration images"):
        write_int8_pte(spec, tmp_path / "full.pte", None, heldout, "seed:0")
    with pytest.raises(QuantizationError, match="no calibration data"):
        build_int8_program(spec.module, spec.example_input, [], spec.program_id)
    assert not (tmp_path / "full.pte").exists()
