"""Manifest round trip and validation, and FLOP/parameter counts against known VGG-16 figures."""
import json

import pytest
import torch

from export.costs import measure_costs
from export.models import ModelShape, seeded_vgg16
from export.split_model import split_vgg16
from formats.errors import ManifestError
from formats.manifest import Manifest, load_manifest, write_manifest


def test_manifest_round_trips_through_json(small_export, tmp_path):
    _, manifest = small_export
    again = Manifest.from_json(json.loads(json.dumps(manifest.to_json())))
    assert again == manifest
    write_manifest(tmp_path / "m.json", manifest)
    assert load_manifest(tmp_path / "m.json") == manifest


def test_manifest_has_the_documented_top_level_fields(small_export):
    manifest_path, _ = small_export
    data = json.loads(manifest_path.read_text())
    assert data["schema"] == "splitbench.manifest" and data["schema_version"] == 4
    assert [item["file"] for item in data["data_files"]] == ["weights.ptd"]
    assert set(data["tools"]) == {"python", "torch", "torchvision", "executorch"}
    assert data["model"] == {"arch": "vgg16", "num_classes": 2, "input_size": 32, "width_divisor": 16,
                             "weights": "seed:0"}
    entry = next(e for e in data["programs"] if e["id"] == "conv5_1_reduced.xnnpack")
    assert entry["reduction"]["k"] == 8 and entry["reduction"]["projection_file"].startswith("pca/conv5_1_k8_")
    assert (manifest_path.parent / entry["reduction"]["projection_file"]).is_file()


def test_unknown_schema_version_is_refused_with_the_file_and_versions(small_export, tmp_path):
    manifest_path, _ = small_export
    data = json.loads(manifest_path.read_text())
    data["schema_version"] = 7
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=r"manifest .*manifest.json: splitbench.manifest schema_version 7 is not "
                                            r"supported \(supported: 1, 2, 3, 4\); pass a manifest written by export"):
        load_manifest(path)


def test_missing_field_and_bad_json_are_refused(small_export, tmp_path):
    manifest_path, _ = small_export
    data = json.loads(manifest_path.read_text())
    del data["programs"][0]["sha256"]
    (tmp_path / "a.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="program entry 'full.xnnpack' lacks sha256"):
        load_manifest(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("{")
    with pytest.raises(ManifestError, match="is not readable JSON"):
        load_manifest(tmp_path / "b.json")
    with pytest.raises(ManifestError, match="does not exist; run `python -m export"):
        load_manifest(tmp_path / "none.json")


def test_full_size_counts_match_published_vgg16_figures():
    with torch.device("meta"):
        model = seeded_vgg16(ModelShape(num_classes=1000), seed=0)
        image = torch.empty(1, 3, 224, 224)
        full = measure_costs(model, image)
        client = measure_costs(split_vgg16(model, "conv5_1", 224).client, image)
    assert full.param_count == 138_357_544  # torchvision's vgg16 parameter count
    assert full.flops == pytest.approx(30.95e9, rel=0.005)  # 15.47 G multiply-adds
    assert client.param_count == pytest.approx(10.0e6, rel=0.02)  # about 38 MiB of fp32 up to conv5_1


@pytest.mark.slow
def test_client_and_cloud_flops_add_up_to_the_full_model():
    model = seeded_vgg16(ModelShape(2, 32, 16), seed=0)
    image = torch.randn(1, 3, 32, 32)
    halves = split_vgg16(model, "conv5_2", 32)
    feature = halves.client(image.clone())
    total = measure_costs(model, image.clone()).flops
    assert measure_costs(halves.client, image.clone()).flops + measure_costs(halves.cloud, feature).flops == total
