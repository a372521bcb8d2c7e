"""Device facts as bench/ writes them, read into the description used by the report."""

from analysis.device_facts import describe_device

PHONE = {
    "serial": "8XV7N15", "model": "Nexus 6P", "manufacturer": "Huawei", "android_sdk": 25, "abi": "arm64-v8a",
    "platform": "android", "is_root": False, "can_drop_caches": False,
    "cores": [{"index": 0, "max_freq_khz": 1555200, "governor": "interactive"},
              {"index": 7, "max_freq_khz": 1958400, "governor": None}],
}


def test_phone_facts():
    device = describe_device(PHONE)
    assert (device.model, device.manufacturer, device.abi, device.android_sdk) == ("Nexus 6P", "Huawei", "arm64-v8a", "25")
    assert device.is_android and not device.is_loopback
    assert device.kind == "Android device"
    assert device.core(7).max_freq_khz == 1958400 and device.core(7).governor is None
    assert device.core(3) is None
    assert device.is_root is False


def test_loopback_and_linux_board():
    loopback = describe_device(dict(PHONE, model="splitbench loopback", platform="linux", android_sdk=0, abi="x86_64"))
    assert loopback.is_loopback and loopback.kind == "loopback device: this host"
    assert loopback.android_sdk is None  # bench writes 0 when the device has no Android SDK
    board = describe_device(dict(PHONE, model="Raspberry Pi 5", platform="linux", android_sdk=None))
    assert not board.is_loopback and board.kind == "not an Android device"


def test_missing_facts_fall_back_to_the_runner_abi():
    device = describe_device({}, {"runner": {"abi": "x86_64"}})
    assert device.model == "unknown device"
    assert device.abi == "x86_64"
    assert device.cores == ()
