"""cloud.jsonl, link.json and layer_profile.json: written and read back, unknown versions and bad values refused."""

from __future__ import annotations

import json

import pytest

from formats.cloud_results import CloudRow, CloudRowWriter, CloudTiming, TransferBytes, read_cloud_rows
from formats.errors import ResultsError, UnsupportedSchema
from formats.layer_profile import LayerProfile, LayerTime, ProfileEvent, read_layer_profile, write_layer_profile
from formats.link_measurement import LinkMeasurement, read_link_measurement, write_link_measurement
from formats.split_points import split_configuration_key, split_of


def a_row(**changes) -> CloudRow:
    values = dict(
        run_id="r", configuration="pool3_simple", split_point="pool3", client_program_id="pool3_simple.xnnpack",
        cloud_program_id="pool3_simple.cloud.xnnpack", reduction_k=None, status="ok", message=None,
        input={"image": "x", "sha256": "0", "size_bytes": 12, "shape": [1, 3, 1, 1]},
        device={"status": "ok", "exit_code": 0, "wall_s": 0.1, "input_matches": True, "output_sha256": "1",
                "message": None},
        transfer=TransferBytes("features", [1, 4], 16, 8, 8, 0.01, 1.27),
        cloud=CloudTiming("rt", "xnnpack", 2, "host", 2, 1.0, [0.5, 0.7], 0.6),
        check={"top1_agree": True}, measured_utc="2026-11-23T00:00:00Z")
    values.update(changes)
    return CloudRow(**values)


def test_cloud_rows_round_trip(tmp_path):
    path = tmp_path / "cloud.jsonl"
    with CloudRowWriter(path) as writer:
        writer.write(a_row())
        writer.write(a_row(configuration="cloud_only", device=None, transfer=TransferBytes(
            "image", [1, 3, 1, 1], 12, 6, 7, 0.02, 2.5, uint8_bytes=3, jpeg_bytes=300, jpeg_quality=90)))
    rows = read_cloud_rows(path)
    assert [row.configuration for row in rows] == ["pool3_simple", "cloud_only"]
    assert rows[0].transfer.float16_bytes == 8 and rows[1].transfer.jpeg_bytes == 300
    assert rows[0].cloud.median_ms == 0.6


def test_cloud_rows_refuse_unknown_versions_missing_fields_and_bad_status(tmp_path):
    path = tmp_path / "cloud.jsonl"
    data = a_row().to_json()
    path.write_text(json.dumps({**data, "schema_version": 99}) + "\n")
    with pytest.raises(UnsupportedSchema, match="schema_version 99"):
        read_cloud_rows(path)
    del data["transfer"]
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(ResultsError, match="lacks transfer"):
        read_cloud_rows(path)
    with pytest.raises(ResultsError, match="status 'fine'"):
        a_row(status="fine")


def test_link_measurement_round_trips_and_refuses_zero_throughput(tmp_path):
    link = LinkMeasurement("r", "loopback", "adb", "t", 1024, [0.1, 0.2], 0.1, 10240.0, "true", [1.0], 1.0)
    write_link_measurement(tmp_path / "link.json", link)
    assert read_link_measurement(tmp_path / "link.json") == link
    assert read_link_measurement(tmp_path / "absent.json") is None
    with pytest.raises(ResultsError, match="above zero"):
        LinkMeasurement("r", "loopback", "adb", "t", 1024, [0.1], 0.1, 0.0, "true", [1.0], 1.0)


def test_layer_profile_round_trips_and_refuses_unknown_event_kinds(tmp_path):
    profile = LayerProfile("r", "full.xnnpack", "xnnpack", 0, 3, "etdump", "by order", 2.0,
                           [ProfileEvent("Convolution #1", "delegate_operator", "conv1_1", 3, 1.5)],
                           [LayerTime("conv1_1", 1.5, 1)], "t")
    path = tmp_path / "layer_profile.json"
    write_layer_profile(path, profile)
    back = read_layer_profile(path)
    assert back == profile and back.layer_ms() == {"conv1_1": 1.5}
    data = json.loads(path.read_text())
    data["events"][0]["kind"] = "mystery"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="event kind 'mystery'"):
        read_layer_profile(path)


def test_split_configurations_sort_in_network_order():
    names = ["full", "pool1_simple", "conv5_1_reduced", "conv1_1_simple", "conv5_1_simple", "cloud_only"]
    assert sorted(names, key=split_configuration_key) == [
        "conv1_1_simple", "pool1_simple", "conv5_1_simple", "conv5_1_reduced", "cloud_only", "full"]
    assert split_of("conv5_1_reduced_noisy") == ("conv5_1", "reduced_noisy") and split_of("full") == (None, None)
