"""System properties the loopback device reports through `getprop`, taken from this host's real facts."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path

from formats.abi import abi_of_machine

LOOPBACK_MODEL = "splitbench loopback"
LOOPBACK_PRODUCT_NAME = "splitbench_loopback"
LOOPBACK_DEVICE_NAME = "loopback"

def android_abi(machine: str) -> str:
    """Android's ABI name for a `uname -m` machine; the machine itself when Android has no name for it."""
    return abi_of_machine(machine) or machine


def host_machine() -> str:
    """This host's `uname -m`."""
    return platform.uname().machine


def _read_first_line(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[0].strip() or None
    except (OSError, IndexError):
        return None


def _cpuinfo_field(*names: str) -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() in names and value.strip():
            return value.strip()
    return None


def _os_release_id() -> str:
    fields = {}
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip().strip('"')
    except OSError:
        pass
    return f"{fields.get('ID', 'linux')}-{fields.get('VERSION_ID', 'unknown')}"


def host_properties() -> dict[str, str]:
    """getprop keys and values for this host; the model names the loopback device, the rest is the host's."""
    uname = platform.uname()
    abi = android_abi(uname.machine)
    cpu_name = _cpuinfo_field("model name", "Hardware", "cpu model") or uname.machine
    manufacturer = _read_first_line("/sys/class/dmi/id/sys_vendor") or _cpuinfo_field("vendor_id") or "unknown"
    build_id = _os_release_id()
    return {
        "ro.product.model": LOOPBACK_MODEL,
        "ro.product.name": LOOPBACK_PRODUCT_NAME,
        "ro.product.device": LOOPBACK_DEVICE_NAME,
        "ro.product.brand": "splitbench",
        "ro.product.manufacturer": manufacturer,
        "ro.product.cpu.abi": abi,
        "ro.product.cpu.abilist": abi,
        "ro.hardware": cpu_name,
        "ro.soc.model": cpu_name,
        "ro.soc.manufacturer": _cpuinfo_field("vendor_id", "CPU implementer") or "unknown",
        # Not Android: SDK level 0 says so; the release is the host kernel's.
        "ro.build.version.sdk": "0",
        "ro.build.version.release": uname.release,
        "ro.build.id": build_id,
        "ro.build.type": "user",
        "ro.build.fingerprint": (
            f"splitbench/{LOOPBACK_PRODUCT_NAME}/{LOOPBACK_DEVICE_NAME}:{uname.release}/{build_id}/"
            f"{socket.gethostname()}:user/release-keys"
        ),
        "ro.kernel.version": uname.release,
        "ro.boot.hardware": cpu_name,
        "ro.serialno": f"loopback-{os.getuid()}",
        # Says "this is splitbench's loopback device" to the sweep (bench.device.facts reads it).
        "ro.splitbench.loopback": "1",
    }
