"""The device of a run as the report names it: its label and what kind of device it is."""

from formats.device_facts import DeviceFacts


def device_label(device: DeviceFacts) -> str:
    return device.model or "unknown device"


def device_kind(device: DeviceFacts) -> str:
    """loopback (this host, possibly with an emulated CPU), Android device, or another Linux device."""
    if device.loopback:
        if device.cpu_emulation:
            return f"loopback device: this host, {device.abi or 'another'} CPU emulated by {device.cpu_emulation}"
        return "loopback device: this host"
    if device.is_android:
        return "Android emulator" if device.emulator else "Android device"
    return "not an Android device"


def timings_are_emulated(device: DeviceFacts) -> bool:
    """Instructions were translated (e.g. qemu-aarch64): timings say nothing about any real CPU."""
    return bool(device.cpu_emulation)
