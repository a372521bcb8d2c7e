"""Every architecture: split points, client + cloud == full model (eager at every split point, and as exported
programs at one split point), PCA reduction and noise at its split points, and the errors for unknown names.

Programs are compared with |program - eager| <= 2e-3 * max|eager| + 1e-5 (fp32; XNNPACK reorders sums and
approximates sigmoid/SiLU/hardswish, which EfficientNet-B0's 80 such layers amplify to about 6e-4 of the output's
scale; random weights give logits of very different scales per architecture).
"""
import fcntl
import shutil
from pathlib import Path

import pytest
import torch

from export.architectures import ARCHITECTURES, seeded_model, split_point_names
from export.cli import main
from export.config import ExportConfig
from export.errors import ConfigError
from export.models import ModelShape
from export.pipeline import MANIFEST_NAME, run_export
from export.programs import plan_programs
from export.reduction_setup import load_calibration, prepare_reductions
from export.split_model import split_model
from formats.manifest import load_manifest, program_file
from formats.split_points import VGG16_SPLIT_POINTS

pytestmark = pytest.mark.slow  # exports programs of six architectures

SIZE = 64
ARCHS = tuple(ARCHITECTURES)
# One split point per architecture exported as client + cloud programs (mid-trunk).
EXPORTED_SPLIT = {"vgg16": "conv4_3", "resnet18": "layer2", "resnet50": "layer3_0", "mobilenet_v2": "block7",
                  "mobilenet_v3_large": "block7", "efficientnet_b0": "block4"}
ARCH_EXPORT_CACHE = "splitbench_arch_exports"


def shape_for(arch: str) -> ModelShape:
    return ModelShape(num_classes=2, input_size=SIZE, width_divisor=16 if arch == "vgg16" else 1)


@pytest.fixture(scope="module", params=ARCHS)
def arch_model(request):
    arch = request.param
    return arch, seeded_model(arch, shape_for(arch), seed=0)


def images(count: int, seed: int) -> torch.Tensor:
    return torch.randn(count, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def test_client_then_cloud_equals_the_full_model_at_every_split_point(arch_model):
    arch, model = arch_model
    batch = images(2, 1)
    with torch.no_grad():
        expected = torch.cat([model(batch[i:i + 1].clone()) for i in range(2)])  # the graph runs batch 1
        for split in split_point_names(arch):
            halves = split_model(ARCHITECTURES[arch], model, split, SIZE)
            joined = halves.cloud(halves.client(batch.clone()))
            torch.testing.assert_close(joined, expected, rtol=0, atol=0, msg=f"{arch} split at {split}")


def test_split_points_cover_the_trunk_in_order(arch_model):
    arch, model = arch_model
    names = split_point_names(arch)
    assert len(names) == len(set(names)) and set(ARCHITECTURES[arch].default_splits) <= set(names)
    cuts = [split_model(ARCHITECTURES[arch], model, name, SIZE).cut for name in names]
    assert [cut.index for cut in cuts] == list(range(len(names)))
    flops = [cut.cumulative_flops for cut in cuts]
    assert flops == sorted(flops) and flops[-1] > flops[0]  # execution order: the client only grows
    assert len(cuts[-1].output_shape) == 2  # the last cut is in the classifier (after the flatten)


@pytest.mark.parametrize("arch", [a for a in ARCHS if a != "vgg16"])
def test_reduction_and_noise_work_at_the_default_split_points(arch, tmp_path):
    """With k = calibration images - 1 the PCA spans the centred calibration features, so the reduced client then
    the reduced cloud reproduce the full model on a calibration image; the noisy client differs on every call."""
    count = 8
    splits = ARCHITECTURES[arch].default_splits
    config = ExportConfig(out_dir=tmp_path, arch=arch, input_size=SIZE, calibration_count=count,
                          k_by_split={s: count - 1 for s in splits}, noise_variance=0.5, include_full=False,
                          cloud_backends=("xnnpack",))
    model = seeded_model(arch, shape_for(arch), seed=0)
    reduced = prepare_reductions(config, model, "seed:0", f"{arch}:test", tmp_path, lambda event: None)
    specs = {spec.program_id: spec for spec in plan_programs(config, model, reduced)}
    image = load_calibration(config).images[:1]
    with torch.no_grad():
        expected = model(image.clone())
        for split in splits:
            client = specs[f"{split}_reduced.xnnpack"].module
            cloud = specs[f"{split}_reduced.cloud.xnnpack"].module
            coefficients = client(image.clone())
            assert coefficients.shape == (1, count - 1)
            scale = expected.abs().max()
            torch.testing.assert_close(cloud(coefficients), expected, rtol=0, atol=float(1e-3 * scale + 1e-4))
            noisy = specs[f"{split}_reduced_noisy.xnnpack"].module
            first, second = noisy(image.clone()), noisy(image.clone())
            assert not torch.equal(first, second) and first.shape == coefficients.shape


@pytest.fixture(scope="module")
def arch_exports(request, tmp_path_factory) -> dict[str, Path]:
    """Per architecture, the manifest of an export of the full model and the client + cloud of EXPORTED_SPLIT
    (xnnpack, 64 px). Built once into pytest's cache folder (content-addressed; the first build takes minutes,
    later sessions only verify hashes) and copied from there."""
    cache = getattr(request.config, "cache", None)
    root = Path(cache.mkdir(ARCH_EXPORT_CACHE)) if cache is not None else tmp_path_factory.mktemp("arch_build")
    manifests = {}
    with open(root.parent / (root.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for arch in ARCHS:
            config = ExportConfig(out_dir=root / arch, arch=arch, input_size=SIZE, splits=(EXPORTED_SPLIT[arch],),
                                  width_divisor=shape_for(arch).width_divisor, include_reduced=False,
                                  backends=("xnnpack",), cloud_backends=("xnnpack",))
            run_export(config)
            out = tmp_path_factory.mktemp(arch) / "export"
            shutil.copytree(root / arch, out)
            manifests[arch] = out / MANIFEST_NAME
    return manifests


@pytest.mark.parametrize("arch", ARCHS)
def test_exported_client_then_cloud_equals_the_full_program_and_the_model(arch, arch_exports):
    from executorch.runtime import Runtime

    manifest_path = arch_exports[arch]
    manifest = load_manifest(manifest_path)
    split = EXPORTED_SPLIT[arch]
    assert manifest.model.arch == arch and {e.arch for e in manifest.programs} == {arch}
    assert [e.id for e in manifest.programs] == ["full.xnnpack", f"{split}_simple.xnnpack",
                                                 f"{split}_simple.cloud.xnnpack"]

    def run(program_id: str, tensor: torch.Tensor) -> torch.Tensor:
        entry = manifest.program(program_id)
        data_path = manifest_path.parent / entry.data_file if entry.data_file else None  # remainders' weights
        path = program_file(manifest_path, entry)
        return Runtime.get().load_program(str(path), data_path=data_path).load_method("forward").execute([tensor])[0]

    image = images(1, 5)
    with torch.no_grad():
        expected = seeded_model(arch, shape_for(arch), seed=0)(image.clone())
    feature = run(f"{split}_simple.xnnpack", image.clone())
    joined = run(f"{split}_simple.cloud.xnnpack", feature)
    full = run("full.xnnpack", image.clone())
    tolerance = float(2e-3 * expected.abs().max() + 1e-5)
    torch.testing.assert_close(full, expected, rtol=0, atol=tolerance)
    torch.testing.assert_close(joined, expected, rtol=0, atol=tolerance)
    client = manifest.program(f"{split}_simple.xnnpack")
    cloud = manifest.program(f"{split}_simple.cloud.xnnpack")
    assert client.output_shape == list(feature.shape) == cloud.input_shape
    assert client.output_size_bytes == feature.numel() * 4
    full_entry = manifest.program("full.xnnpack")
    assert client.flops + cloud.flops == full_entry.flops > 0
    # the halves hold what their graph uses: BatchNorm's num_batches_tracked counters (unused in eval) stay out
    counters = sum(1 for name, _ in seeded_model(arch, shape_for(arch), seed=0).named_buffers()
                   if name.endswith("num_batches_tracked"))
    assert client.param_count + cloud.param_count == full_entry.param_count - counters


def test_splits_list_prints_the_split_points_of_the_architecture(capsys):
    assert main(["--arch", "resnet18", "--splits", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("split points of resnet18 (input 224x224")
    assert lines[1].split() == ["name", "output", "bytes", "fp32", "cum.", "MFLOP"]
    names = [line.split()[0] for line in lines[2:]]
    named = ["stem", "layer1_0", "layer1", "layer2_0", "layer2", "layer3_0", "layer3", "layer4_0", "layer4"]
    assert [name for name in names if name in named] == named  # the architecture's names, in execution order
    layer4 = next(line for line in lines if line.split()[0] == "layer4")
    assert "512x7x7" in layer4 and "100352" in layer4 and "* k=4" in layer4  # 25088 fp32 values


def test_splits_list_of_vgg16_shows_the_caffe_names(capsys):
    assert main(["--splits", "list", "--input-size", "32"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert [name for name in names if name in VGG16_SPLIT_POINTS] == list(VGG16_SPLIT_POINTS)  # the paper's, in order
    assert len(names) == 39  # and every other single-tensor cut of the graph (pre-ReLU convs, the classifier)


def test_unknown_architecture_lists_the_known_ones(tmp_path, capsys):
    with pytest.raises(ConfigError, match="unknown architecture 'alexnet'; available: vgg16, resnet18, resnet50, "
                                          "mobilenet_v2, mobilenet_v3_large, efficientnet_b0"):
        ExportConfig(out_dir=tmp_path, arch="alexnet")
    assert main(["--out", str(tmp_path), "--arch", "alexnet"]) == 2
    assert capsys.readouterr().err.strip().startswith("export: error: unknown architecture 'alexnet'")


def test_split_point_of_another_architecture_lists_this_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown split point 'conv5_1'; valid split points: .*stem, layer1_0, "
                                          r".*layer4.* \(those of resnet18"):
        ExportConfig(out_dir=tmp_path, arch="resnet18", splits=("conv5_1",))
    with pytest.raises(ConfigError, match="unknown split point 'block20'.*block0, .*block1, .*block18"):
        ExportConfig(out_dir=tmp_path, arch="mobilenet_v2", splits=("block20",))


def test_width_divisor_is_refused_outside_vgg16(tmp_path):
    with pytest.raises(ConfigError, match="width_divisor narrows vgg16 only.*pass a small --input-size"):
        ExportConfig(out_dir=tmp_path, arch="resnet18", width_divisor=2)


def test_default_splits_and_k_follow_the_architecture(tmp_path):
    config = ExportConfig(out_dir=tmp_path, arch="efficientnet_b0")
    assert config.splits == ("block3", "block5", "block7") and [config.k_for(s) for s in config.splits] == [8, 6, 4]
    with pytest.raises(ConfigError, match=r"no default k for split point 'block2'; pass --k block2=N"):
        ExportConfig(out_dir=tmp_path, arch="efficientnet_b0", splits=("block2",))


# The names split points had when each architecture was cut by hand-written code; manifests and commands use them.
NAMES_BEFORE_THE_GRAPH = {
    "vgg16": ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1", "conv3_2", "conv3_3", "pool3",
              "conv4_1", "conv4_2", "conv4_3", "pool4", "conv5_1", "conv5_2", "conv5_3", "pool5"],
    "resnet18": ["stem", "layer1_0", "layer1", "layer2_0", "layer2", "layer3_0", "layer3", "layer4_0", "layer4"],
    "resnet50": ["stem", "layer1_0", "layer1_1", "layer1", "layer2_2", "layer2", "layer3_4",
                 "layer3", "layer4_1", "layer4"],
    "mobilenet_v2": [f"block{i}" for i in range(19)],
    "mobilenet_v3_large": [f"block{i}" for i in range(17)],
    "efficientnet_b0": [f"block{i}" for i in range(9)],
}


@pytest.mark.parametrize("arch", ARCHS)
def test_the_graph_offers_every_split_point_the_hand_written_cuts_had_in_the_same_order(arch):
    names = split_point_names(arch)
    before = NAMES_BEFORE_THE_GRAPH[arch]
    assert [name for name in names if name in before] == before
