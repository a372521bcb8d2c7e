"""Device facts as bench/ writes them (formats.device_facts), read strictly and named for the report."""

import pytest

from analysis.devices import device_kind, device_label, timings_are_emulated
from formats.device_facts import DeviceFacts
from formats.errors import ResultsError, UnsupportedSchema

PHONE = {
    "schema": "splitbench.device_facts", "schema_version": 2,
    "serial": "8XV7N15", "model": "Nexus 6P", "manufacturer": "Huawei", "android_sdk": 25, "fingerprint": None,
    "soc_model": None, "abi": "arm64-v8a", "platform": "android", "kernel_os": "Toybox", "machine": "aarch64",
    "is_root": False, "can_drop_caches": False,
    "cores": [{"index": 0, "max_freq_khz": 1555200, "governor": "interactive"},
              {"index": 7, "max_freq_khz": 1958400, "governor": None}],
    "thermal_zones": [], "storage_free_bytes": None, "loopback": False, "emulator": False, "cpu_emulation": None,
}


def test_phone_facts():
    device = DeviceFacts.from_json(PHONE)
    assert (device.model, device.manufacturer, device.abi, device.android_sdk) == ("Nexus 6P", "Huawei", "arm64-v8a", 25)
    assert device.is_android and not device.loopback
    assert device_kind(device) == "Android device" and device_label(device) == "Nexus 6P"
    assert device.core(7).max_freq_khz == 1958400 and device.core(7).governor is None
    assert device.core(3) is None
    assert device.is_root is False


def test_loopback_emulated_loopback_emulator_and_linux_board():
    loopback = DeviceFacts.from_json(dict(PHONE, model="splitbench loopback", platform="linux", android_sdk=0,
                                          abi="x86_64", loopback=True))
    assert loopback.loopback and device_kind(loopback) == "loopback device: this host"
    assert not timings_are_emulated(loopback)
    arm64 = DeviceFacts.from_json(dict(PHONE, loopback=True, cpu_emulation="qemu-aarch64"))
    assert device_kind(arm64) == "loopback device: this host, arm64-v8a CPU emulated by qemu-aarch64"
    assert timings_are_emulated(arm64)
    emulator = DeviceFacts.from_json(dict(PHONE, emulator=True, abi="x86_64"))
    assert device_kind(emulator) == "Android emulator"
    board = DeviceFacts.from_json(dict(PHONE, model="Raspberry Pi 5", platform="linux", android_sdk=None))
    assert not board.loopback and device_kind(board) == "not an Android device"


def test_version_1_facts_tell_the_loopback_device_by_its_model():
    """Version 1 had no `loopback` field; its reader derives it from the model the loopback device reported."""
    v1 = {key: value for key, value in PHONE.items() if key not in ("loopback", "emulator", "cpu_emulation")}
    v1["schema_version"] = 1
    assert not DeviceFacts.from_json(v1).loopback
    assert DeviceFacts.from_json(dict(v1, model="splitbench loopback")).loopback


def test_missing_or_renamed_facts_are_refused_not_guessed():
    with pytest.raises(UnsupportedSchema, match="device facts: schema is None"):
        DeviceFacts.from_json({})
    renamed = {("cpus" if key == "cores" else key): value for key, value in PHONE.items()}
    renamed.pop("serial")
    with pytest.raises(ResultsError, match="lacks serial"):
        DeviceFacts.from_json(renamed)
    with pytest.raises(UnsupportedSchema, match="schema_version 3 is not supported"):
        DeviceFacts.from_json(dict(PHONE, schema_version=3))
