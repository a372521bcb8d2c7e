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


# Every ABI Android defines (and the one a Linux board maps to): a device reporting anything else is refused,
# because the ABI names a folder on this host (<build_root>/<platform>-<abi>/bundle).
KNOWN_ABIS: tuple[str, ...] = ("arm64-v8a", "armeabi-v7a", "armeabi", "x86", "x86_64", "riscv64", "mips", "mips64")


def is_known_abi(abi: str | None) -> bool:
    return abi in KNOWN_ABIS


def abi_of_machine(machine: str | None) -> str | None:
    """Android's ABI name for a `uname -m` machine; None when Android has no name for it."""
    return MACHINE_TO_ABI.get((machine or "").strip())
