"""Manifest schema version 2 (arch, quantization, accuracy per program) and reading version 1."""
import json

import pytest

from formats.errors import ManifestError
from formats.manifest import (
    MANIFEST_SCHEMA_VERSION,
    AccuracyInfo,
    CalibrationInfo,
    Manifest,
    ModelInfo,
    ProgramEntry,
    QuantizationInfo,
    load_manifest,
    write_manifest,
)

CALIBRATION = CalibrationInfo("synthetic:seed=0:size=64", 16, "ab" * 32)
HELDOUT = CalibrationInfo("synthetic:seed=1:size=64", 8, "cd" * 32)


def entry(**changes) -> ProgramEntry:
    values = dict(
        id="full.xnnpack", configuration="full", role="full", split_point=None, reduction=None, noise=None,
        format="pte", backend="xnnpack", dtype="float32", file="full.xnnpack.pte", sha256="00" * 32,
        size_bytes=10, input_shape=[1, 3, 64, 64], input_dtype="float32", output_shape=[1, 2],
        output_dtype="float32", output_size_bytes=8, param_count=5, flops=7, ptl_bytecode_version=None,
        export_time_s=0.1, cache_key="k", arch="resnet18")
    values.update(changes)
    return ProgramEntry(**values)


def int8_entry() -> ProgramEntry:
    return entry(id="full.xnnpack_int8", backend="xnnpack_int8", dtype="int8", file="full.xnnpack_int8.pte",
                 quantization=QuantizationInfo("pt2e_static", "int8 symmetric per-channel",
                                               "int8 affine per-tensor", CALIBRATION),
                 accuracy=AccuracyInfo("fp32 eager module", HELDOUT, 0.875, 0.99, 0.97, 0.05, "random weights"))


def manifest(*programs: ProgramEntry) -> Manifest:
    return Manifest(created_utc="2026-01-01T00:00:00Z", tools={"torch": "x"},
                    model=ModelInfo("resnet18", 2, 64, 1, "seed:0"), programs=list(programs))


def test_version_2_round_trips_arch_quantization_and_accuracy(tmp_path):
    written = manifest(entry(), int8_entry())
    write_manifest(tmp_path / "manifest.json", written)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["schema_version"] == MANIFEST_SCHEMA_VERSION == 3
    assert data["programs"][1]["quantization"]["calibration"] == {"source": "synthetic:seed=0:size=64",
                                                                  "count": 16, "sha256": "ab" * 32}
    assert data["programs"][1]["accuracy"]["top1_agreement"] == 0.875
    again = load_manifest(tmp_path / "manifest.json")
    assert again == written
    assert again.program("full.xnnpack_int8").accuracy.heldout == HELDOUT


def test_version_1_reads_as_vgg16_without_quantization(tmp_path):
    data = manifest(entry()).to_json()
    data["schema_version"] = 1
    data["model"]["arch"] = "vgg16"
    for program in data["programs"]:
        for key in ("arch", "quantization", "accuracy"):
            del program[key]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    loaded = load_manifest(tmp_path / "manifest.json")
    assert loaded.schema_version == 1
    (program,) = loaded.programs
    assert program.arch == "vgg16" and program.quantization is None and program.accuracy is None


def test_version_2_entry_without_arch_is_refused(tmp_path):
    data = manifest(entry()).to_json()
    del data["programs"][0]["arch"]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="program entry 'full.xnnpack' lacks arch; re-export the manifest"):
        load_manifest(tmp_path / "manifest.json")


def test_quantization_without_calibration_block_is_refused(tmp_path):
    data = manifest(int8_entry()).to_json()
    del data["programs"][0]["quantization"]["calibration"]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="quantization of full.xnnpack_int8 .*lacks calibration"):
        load_manifest(tmp_path / "manifest.json")


def test_version_3_round_trips_a_shared_data_file_and_version_2_reads_without_one(tmp_path):
    remainder = entry(id="conv5_1_simple.cloud.xnnpack", configuration="conv5_1_simple", role="cloud",
                      split_point="conv5_1", file="conv5_1_simple.cloud.xnnpack.pte", data_file="cloud_weights.ptd",
                      data_keys=["aa" * 32, "bb" * 32])
    write_manifest(tmp_path / "manifest.json", manifest(entry(), remainder))
    again = load_manifest(tmp_path / "manifest.json")
    assert again.program(remainder.id).data_keys == ["aa" * 32, "bb" * 32]
    assert again.program("full.xnnpack").data_file is None
    data = manifest(entry()).to_json()
    data["schema_version"] = 2
    for program in data["programs"]:
        del program["data_file"], program["data_keys"]
    (tmp_path / "v2.json").write_text(json.dumps(data))
    (program,) = load_manifest(tmp_path / "v2.json").programs
    assert program.data_file is None and program.data_keys is None


@pytest.mark.parametrize("data_file, data_keys, message", [
    ("../weights.ptd", ["aa"], r"\.\."), ("cloud_weights.ptd", None, "without a list of data_keys")])
def test_a_bad_data_file_is_refused(tmp_path, data_file, data_keys, message):
    data = manifest(entry()).to_json()
    data["programs"][0].update(data_file=data_file, data_keys=data_keys)
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path / "manifest.json")
