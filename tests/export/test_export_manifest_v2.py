"""Manifest schema versions 2 to 4 (arch, quantization, accuracy per program; data files) and reading version 1."""
import json

import pytest

from formats.errors import ManifestError
from formats.manifest import (
    MANIFEST_SCHEMA_VERSION,
    AccuracyInfo,
    CalibrationInfo,
    DataFileInfo,
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


WEIGHTS = DataFileInfo("weights.ptd", "ef" * 32, 1234)


def manifest(*programs: ProgramEntry, data_files: tuple[DataFileInfo, ...] = ()) -> Manifest:
    return Manifest(created_utc="2026-01-01T00:00:00Z", tools={"torch": "x"},
                    model=ModelInfo("resnet18", 2, 64, 1, "seed:0"), programs=list(programs),
                    data_files=list(data_files))


def test_version_2_round_trips_arch_quantization_and_accuracy(tmp_path):
    written = manifest(entry(), int8_entry())
    write_manifest(tmp_path / "manifest.json", written)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["schema_version"] == MANIFEST_SCHEMA_VERSION == 4
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


def remainder_entry(data_file: str = "weights.ptd") -> ProgramEntry:
    return entry(id="conv5_1_simple.cloud.xnnpack", configuration="conv5_1_simple", role="cloud",
                 split_point="conv5_1", file="conv5_1_simple.cloud.xnnpack.pte", data_file=data_file,
                 data_keys=["aa" * 32, "bb" * 32])


def test_version_4_round_trips_a_listed_data_file_shared_by_device_and_cloud_programs(tmp_path):
    full = entry(data_file="weights.ptd", data_keys=["aa" * 32, "bb" * 32, "cc" * 32])
    write_manifest(tmp_path / "manifest.json", manifest(full, remainder_entry(), data_files=(WEIGHTS,)))
    again = load_manifest(tmp_path / "manifest.json")
    assert again.program("conv5_1_simple.cloud.xnnpack").data_keys == ["aa" * 32, "bb" * 32]
    assert again.program("full.xnnpack").data_file == "weights.ptd"
    assert again.data_files == [WEIGHTS] and again.data_file("weights.ptd") == WEIGHTS
    assert again.data_file("other.ptd") is None


def test_version_3_reads_its_remainders_data_file_unlisted_and_version_2_without_one(tmp_path):
    data = manifest(entry(), remainder_entry("cloud_weights.ptd")).to_json()
    data["schema_version"] = 3
    del data["data_files"]
    (tmp_path / "v3.json").write_text(json.dumps(data))
    v3 = load_manifest(tmp_path / "v3.json")
    assert v3.data_files == [] and v3.program("conv5_1_simple.cloud.xnnpack").data_file == "cloud_weights.ptd"
    data = manifest(entry()).to_json()
    data["schema_version"] = 2
    del data["data_files"]
    for program in data["programs"]:
        del program["data_file"], program["data_keys"]
    (tmp_path / "v2.json").write_text(json.dumps(data))
    (program,) = load_manifest(tmp_path / "v2.json").programs
    assert program.data_file is None and program.data_keys is None


@pytest.mark.parametrize("data_file, data_keys, message", [
    ("../weights.ptd", ["aa"], r"\.\."), ("weights.ptd", None, "without a list of data_keys"),
    ("other.ptd", ["aa"], "names data file 'other.ptd', which 'data_files' does not list")])
def test_a_bad_data_file_is_refused(tmp_path, data_file, data_keys, message):
    data = manifest(entry(), data_files=(WEIGHTS,)).to_json()
    data["programs"][0].update(data_file=data_file, data_keys=data_keys)
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path / "manifest.json")


@pytest.mark.parametrize("change, message", [
    ({"sha256": "XY"}, "sha256 is not 64 lower-case hex digits"),
    ({"size_bytes": -1}, "size_bytes is not a count"),
    ({"file": "full.xnnpack.pte"}, "same base name"),
    ({"file": "/tmp/weights.ptd"}, "absolute path"),
])
def test_a_bad_data_files_listing_is_refused(tmp_path, change, message):
    data = manifest(entry(), data_files=(WEIGHTS,)).to_json()
    data["data_files"][0].update(change)
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path / "manifest.json")


def test_version_4_without_data_files_is_refused(tmp_path):
    data = manifest(entry()).to_json()
    del data["data_files"]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="lacks 'data_files'"):
        load_manifest(tmp_path / "manifest.json")
