"""ABI modes of the loopback device: this host's own, or an emulated Android arm64 phone.

In the arm64 mode the device reports itself as an Android 14 (SDK 34) arm64-v8a phone running under an
emulator (ro.boot.qemu=1 and ro.kernel.qemu=1, as Android's own emulators set), `uname -m` is aarch64 and
`uname -o` Toybox, and pushed aarch64 programs run through qemu-aarch64-static, which the kernel starts
for them by itself once binfmt_misc has qemu-aarch64 registered. CPU, frequency and thermal facts stay
this host's real ones: programs are emulated on this host's cores, so their timings are not a phone's.
"""

from __future__ import annotations

from pathlib import Path

from loopback.errors import LoopbackDeviceError
from loopback.host_properties import LOOPBACK_PRODUCT_NAME, android_abi, host_machine

ARM64_ABI = "arm64-v8a"
ARM64_MACHINE = "aarch64"
EMULATED_ANDROID_RELEASE = "14"
EMULATED_ANDROID_SDK = "34"
EMULATED_KERNEL_OS = "Toybox"
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
QEMU_AARCH64_ENTRY = "qemu-aarch64"

_REGISTER_HINT = (
    "register it (as root): `apt-get install -y qemu-user-static binfmt-support`, "
    "`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc` if that folder is empty, then "
    "`update-binfmts --enable qemu-aarch64` (scripts/setup.sh does this)"
)


def emulated_abi(abi: str | None) -> str | None:
    """None for this host's own ABI (no emulation), else the ABI to emulate; raises for an unsupported one."""
    if abi is None or abi == android_abi(host_machine()):
        return None
    if abi != ARM64_ABI:
        raise LoopbackDeviceError(
            f"the loopback device cannot be a {abi!r} device: give {ARM64_ABI} (emulated with qemu-aarch64) "
            f"or leave the ABI out for this host's own ({android_abi(host_machine())})"
        )
    return abi


def check_arm64_emulation(binfmt_dir: Path = BINFMT_DIR) -> None:
    """Raise unless the kernel runs aarch64 programs through qemu-aarch64 (binfmt_misc entry, enabled)."""
    entry = binfmt_dir / QEMU_AARCH64_ENTRY
    try:
        lines = entry.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        raise LoopbackDeviceError(
            f"the arm64 loopback device runs aarch64 programs through qemu-aarch64, but {entry} does not exist "
            f"(binfmt_misc has no qemu-aarch64 entry): {_REGISTER_HINT}"
        ) from None
    if not lines or lines[0].strip() != "enabled":
        raise LoopbackDeviceError(
            f"the binfmt_misc entry {entry} is disabled, so aarch64 programs would not run: {_REGISTER_HINT}"
        )
    try:
        status = (binfmt_dir / "status").read_text(encoding="utf-8").strip()
    except OSError:
        status = "enabled"
    if status != "enabled":
        raise LoopbackDeviceError(f"binfmt_misc is disabled on this host ({binfmt_dir / 'status'}): {_REGISTER_HINT}")


def arm64_properties(host: dict[str, str]) -> dict[str, str]:
    """getprop of the emulated arm64 phone: Android's identity on top of this host's real CPU facts."""
    product = f"{LOOPBACK_PRODUCT_NAME}_arm64"
    device = "loopback_arm64"
    build_id = host["ro.build.id"]
    return {
        **host,
        "ro.product.name": product,
        "ro.product.device": device,
        "ro.product.cpu.abi": ARM64_ABI,
        "ro.product.cpu.abilist": ARM64_ABI,
        "ro.product.cpu.abilist64": ARM64_ABI,
        "ro.product.cpu.abilist32": "",
        "ro.build.version.sdk": EMULATED_ANDROID_SDK,
        "ro.build.version.release": EMULATED_ANDROID_RELEASE,
        "ro.build.characteristics": "emulator",
        "ro.build.fingerprint": (
            f"splitbench/{product}/{device}:{EMULATED_ANDROID_RELEASE}/{build_id}/qemu-aarch64-emulated:user/test-keys"
        ),
        "ro.boot.qemu": "1",
        "ro.kernel.qemu": "1",
        # Says "instructions are translated, timings mean nothing" to the sweep (bench.device.facts).
        "ro.splitbench.cpu_emulation": QEMU_AARCH64_ENTRY,
    }
