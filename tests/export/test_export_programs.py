"""Every exported program runs in its runtime and matches eager PyTorch.

Tolerance: |program - eager| <= 1e-4 + 1e-4 * |eager| elementwise (fp32; XNNPACK reorders sums).
"""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from small_export_config import small_export_config

from export.config import ExportConfig
from export.models import ModelShape, seeded_vgg16
from export.pca import load_projection
from export.pipeline import run_export
from export.programs import ReducedSplit, plan_programs
from formats.file_hash import file_sha256
from formats.manifest import program_file

pytestmark = pytest.mark.slow  # exports programs or drives a real adb server

ATOL = RTOL = 1e-4


def load_program(path: Path, data_path: Path | None = None):
    """A callable tensor -> tensor running the program in its own runtime (ExecuTorch or the lite interpreter);
    `data_path`: the data file holding its weights (cloud remainders)."""
    if path.suffix == ".pte":
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(path), data_path=data_path).load_method("forward")
        return lambda tensor: method.execute([tensor])[0]
    from torch.jit.mobile import _load_for_lite_interpreter

    return _load_for_lite_interpreter(str(path))


def run_program(path: Path, image: torch.Tensor, data_path: Path | None = None) -> torch.Tensor:
    return load_program(path, data_path)(image)


def data_path_of(manifest_path: Path, entry) -> Path | None:
    return manifest_path.parent / entry.data_file if entry.data_file else None


def eager_programs(config: ExportConfig, manifest_path: Path, manifest) -> dict:
    """Eager modules for the manifest's programs, rebuilt from the seed and the saved projections."""
    model = seeded_vgg16(ModelShape(config.num_classes, config.input_size, config.width_divisor), config.seed)
    reduced = {}
    for entry in manifest.programs:
        if entry.reduction is not None and entry.split_point not in reduced:
            projection = load_projection(manifest_path.parent / entry.reduction.projection_file)
            reduced[entry.split_point] = ReducedSplit(projection, entry.reduction.projection_file,
                                                      entry.reduction.calibration)
    return {spec.program_id: spec.module for spec in plan_programs(config, model, reduced)}


@pytest.fixture(scope="module")
def small_eager(small_export):
    manifest_path, manifest = small_export
    return eager_programs(small_export_config(manifest_path.parent), manifest_path, manifest)


def test_small_export_has_the_seven_paper_configurations_in_three_formats(small_export):
    _, manifest = small_export
    configurations = {entry.configuration for entry in manifest.programs_with_role("full", "client")}
    assert configurations == {"full", "conv5_1_simple", "conv5_2_simple", "conv5_3_simple", "conv5_1_reduced",
                              "conv5_2_reduced", "conv5_3_reduced", "conv5_1_reduced_noisy"}
    for configuration in configurations:
        backends = {e.backend for e in manifest.programs if e.configuration == configuration}
        assert backends == {"xnnpack", "portable", "lite"}


def test_every_deterministic_program_matches_eager(small_export, small_eager):
    manifest_path, manifest = small_export
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    checked = 0
    for entry in manifest.programs:
        if entry.noise is not None:
            continue
        with torch.no_grad():
            expected = small_eager[entry.id](image.clone())
        actual = run_program(program_file(manifest_path, entry), image.clone(), data_path_of(manifest_path, entry))
        assert list(actual.shape) == entry.output_shape, entry.id
        torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL, msg=lambda m, entry=entry: f"{entry.id}: {m}")
        checked += 1
    assert checked == 21


def test_noisy_programs_draw_fresh_noise_of_the_configured_variance(small_export, small_eager):
    manifest_path, manifest = small_export
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(8))
    clean = small_eager["conv5_1_reduced.xnnpack"]
    with torch.no_grad():
        expected_mean = clean(image.clone())
    for entry in [e for e in manifest.programs if e.noise is not None]:
        assert entry.noise.variance == 0.5 and entry.noise.seed_policy == "fresh_per_inference"
        program = load_program(program_file(manifest_path, entry), data_path_of(manifest_path, entry))
        draws = torch.cat([program(image.clone()) for _ in range(200)])
        assert not torch.equal(draws[0], draws[1]), f"{entry.id} repeats its noise"
        deviation = draws - expected_mean
        # 200 draws x 8 dims: the sample variance of N(0, 0.5) lies within +-15% with overwhelming probability
        assert deviation.var().item() == pytest.approx(0.5, rel=0.15), entry.id
        assert abs(deviation.mean().item()) < 0.1, entry.id


def test_manifest_entries_describe_their_files(small_export):
    manifest_path, manifest = small_export
    for entry in manifest.programs:
        path = program_file(manifest_path, entry)
        assert path.stat().st_size == entry.size_bytes and file_sha256(path) == entry.sha256
        assert entry.output_size_bytes == 4 * torch.Size(entry.output_shape).numel()
        assert entry.input_shape == [1, 3, 32, 32] and entry.dtype == entry.input_dtype == "float32"
        assert (entry.ptl_bytecode_version is not None) == (entry.format == "ptl")
    full = manifest.program("full.xnnpack")
    assert full.output_shape == [1, 2]
    assert manifest.program("conv5_2_reduced.lite").output_shape == [1, 6]
    assert manifest.program("conv5_3_simple.portable").output_shape == [1, 32, 2, 2]
    clients = [manifest.program(f"conv5_{i}_simple.xnnpack") for i in (1, 2, 3)]
    assert clients[0].param_count < clients[1].param_count < clients[2].param_count < full.param_count
    assert clients[0].flops < clients[1].flops < clients[2].flops < full.flops
    reduced = manifest.program("conv5_1_reduced.xnnpack")
    assert reduced.param_count == clients[0].param_count + 8 * 128 + 128  # components + PCA mean
    assert 0 < reduced.reduction.explained_variance_ratio < 1


def test_cloud_programs_complete_the_client(tmp_path):
    config = ExportConfig(out_dir=tmp_path, width_divisor=16, input_size=32, splits=("conv5_2",), include_full=False,
                          backends=("lite",), cloud_backends=("xnnpack",), calibration_count=12)
    manifest = run_export(config)
    manifest_path = tmp_path / "manifest.json"
    assert [e.id for e in manifest.programs_with_role("cloud")] == ["conv5_2_simple.cloud.xnnpack",
                                                                      "conv5_2_reduced.cloud.xnnpack"]
    model = seeded_vgg16(ModelShape(2, 32, 16), seed=0)
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        full_output = model(image.clone())
    feature = run_program(program_file(manifest_path, manifest.program("conv5_2_simple.lite")), image.clone())
    simple_cloud = manifest.program("conv5_2_simple.cloud.xnnpack")
    assert simple_cloud.data_file == "weights.ptd" and simple_cloud.size_bytes < 100_000  # weights outside
    cloud_output = run_program(program_file(manifest_path, simple_cloud), feature,
                               data_path_of(manifest_path, simple_cloud))
    torch.testing.assert_close(cloud_output, full_output, atol=ATOL, rtol=RTOL)
    coefficients = run_program(program_file(manifest_path, manifest.program("conv5_2_reduced.lite")), image.clone())
    reduced_cloud = manifest.program("conv5_2_reduced.cloud.xnnpack")
    assert reduced_cloud.input_shape == [1, 6] and reduced_cloud.output_shape == [1, 2]
    eager = eager_programs(config, manifest_path, manifest)
    with torch.no_grad():
        expected = eager[reduced_cloud.id](coefficients)
    torch.testing.assert_close(run_program(program_file(manifest_path, reduced_cloud), coefficients,
                                           data_path_of(manifest_path, reduced_cloud)), expected,
                               atol=ATOL, rtol=RTOL)


def test_noisy_program_draws_different_noise_in_separate_processes(small_export):
    manifest_path, manifest = small_export
    entry = manifest.program("conv5_1_reduced_noisy.xnnpack")
    path, data_path = program_file(manifest_path, entry), data_path_of(manifest_path, entry)
    script = ("import sys, torch\nfrom executorch.runtime import Runtime\n"
              "method = Runtime.get().load_program(sys.argv[1], data_path=sys.argv[2]).load_method('forward')\n"
              "print(method.execute([torch.zeros(1, 3, 32, 32)])[0].flatten().tolist())\n")
    processes = [subprocess.Popen([sys.executable, "-c", script, str(path), str(data_path)], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0].strip().splitlines()[-1] for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert outputs[0] != outputs[1]


def test_xnnpack_programs_carry_the_delegate_and_portable_programs_do_not(small_export):
    manifest_path, manifest = small_export
    for entry in manifest.programs:
        if entry.format != "pte":
            continue
        delegated = b"XnnpackBackend" in program_file(manifest_path, entry).read_bytes()
        assert delegated == (entry.backend == "xnnpack"), entry.id
