"""Android ABI names: what `uname -m` means as an ABI (for Linux boards, and for the loopback device)."""

MACHINE_TO_ABI: dict[str, str] = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "i686": "x86",
    "i386": "x86",
    "aarch64": "arm64-v8a",
    "arm64": "arm64-v8a",
    "armv8l": "armeabi-v7a",
    "armv7l": "armeabi-v7a",
}


def abi_of_machine(machine: str | None) -> str | None:
    """Android's ABI name for a `uname -m` machine; None when Android has no name for it."""
    return MACHINE_TO_ABI.get((machine or "").strip())
