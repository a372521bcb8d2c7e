"""The device of a run as the report names it: its label and what kind of device it is."""

from formats.device_facts import DeviceFacts
from formats.display_text import shown


def device_label(device: DeviceFacts) -> str:
    """The device's model name, control characters escaped (it is a device's own text)."""
    return shown(device.model) if device.model else "unknown device"


def device_kind(device: DeviceFacts) -> str:
    """loopback (this host, possibly with an emulated CPU), Android device, or another Linux device."""
    if device.loopback:
        if device.cpu_emulation:
            return (f"loopback device: this host, {shown(device.abi or 'another')} CPU emulated by "
                    f"{shown(device.cpu_emulation)}")
        return "loopback device: this host"
    if device.is_android:
        return "Android emulator" if device.emulator else "Android device"
    return "not an Android device"


def timings_are_emulated(device: DeviceFacts) -> bool:
    """Instructions were translated (e.g. qemu-aarch64): timings say nothing about any real CPU."""
    return bool(device.cpu_emulation)
