"""What the device is: identity, ABI, platform, cores, thermal zones, storage and root.

Collected in one shell round trip; parsed by pure functions that unit tests feed with
captured text. Anything the device does not expose is ``None``, never an error.

Everything here is a stranger's input, validated before it becomes a host path, a number or a line on a
terminal: the ABI must be one of formats.abi.KNOWN_ABIS (it names a folder on this host; anything else is
refused with UnsupportedDevice), numbers are ASCII digits of bounded length (anything else is ``None``), core
lists and thermal zones are bounded in count, and text is cut to MAX_DEVICE_TEXT_CHARS characters (it is
shown escaped by formats.display_text wherever it is printed).
"""

from __future__ import annotations

import re

from bench.adb.scripts import ShellConnection, run_script, section_marker, split_sections
from bench.errors import UnsupportedDevice
from formats.abi import KNOWN_ABIS, abi_of_machine, is_known_abi
from formats.device_facts import CoreFacts, DeviceFacts, ThermalZoneFacts
from formats.display_text import shown

# Properties splitbench's loopback device sets about itself (loopback/host_properties.py).
LOOPBACK_PROPERTY = "ro.splitbench.loopback"
CPU_EMULATION_PROPERTY = "ro.splitbench.cpu_emulation"

DEVICE_WORK_ROOT = "/data/local/tmp"
FACTS_TIMEOUT_S = 60.0  # the one round trip that collects the facts

MAX_DEVICE_TEXT_CHARS = 256  # a model name, fingerprint, governor... longer than this is cut
MAX_CORES = 1024  # a core index at or beyond this (or more cores than this) is not believed
MAX_THERMAL_ZONES = 256

GETPROP_KEYS = (
    "ro.product.model",
    "ro.product.manufacturer",
    "ro.build.version.sdk",
    "ro.build.fingerprint",
    "ro.product.cpu.abi",
    "ro.soc.model",
    "ro.kernel.qemu",
    "ro.boot.qemu",
    LOOPBACK_PROPERTY,
    CPU_EMULATION_PROPERTY,
)


def facts_script(work_root: str = DEVICE_WORK_ROOT) -> str:
    """The shell script whose output parse_device_facts understands."""
    getprops = " ".join(GETPROP_KEYS)
    return "\n".join([
        section_marker("uname_o"), "uname -o 2>/dev/null",
        section_marker("uname_m"), "uname -m 2>/dev/null",
        section_marker("getprop"),
        f"if command -v getprop >/dev/null 2>&1; then for p in {getprops}; do "
        'echo "$p=$(getprop $p 2>/dev/null)"; done; fi',
        section_marker("online"), "cat /sys/devices/system/cpu/online 2>/dev/null",
        section_marker("cpufreq"),
        "for d in /sys/devices/system/cpu/cpu[0-9]*; do [ -d \"$d\" ] || continue; "
        'echo "${d##*/cpu}|$(cat $d/cpufreq/cpuinfo_max_freq 2>/dev/null)|'
        '$(cat $d/cpufreq/scaling_governor 2>/dev/null)"; done',
        section_marker("thermal"), thermal_loop(),
        section_marker("df"), f"df -k {work_root} 2>/dev/null",
        section_marker("uid"), "id -u 2>/dev/null",
        section_marker("drop_caches"),
        "if [ -w /proc/sys/vm/drop_caches ]; then echo writable; else echo no; fi",
        "true",
    ])


def thermal_loop() -> str:
    """Shell loop printing ``zone|type|millidegrees`` for every thermal zone."""
    return (
        "for z in /sys/class/thermal/thermal_zone*; do [ -d \"$z\" ] || continue; "
        'echo "${z##*thermal_zone}|$(cat $z/type 2>/dev/null)|$(cat $z/temp 2>/dev/null)"; done'
    )


def collect_device_facts(connection: ShellConnection, serial: str, work_root: str = DEVICE_WORK_ROOT) -> DeviceFacts:
    """Ask the device about itself (one shell round trip)."""
    result = run_script(connection, facts_script(work_root), timeout_s=FACTS_TIMEOUT_S)
    return parse_device_facts(result.output, serial)


def parse_device_facts(output: str, serial: str) -> DeviceFacts:
    """Build DeviceFacts from the output of facts_script."""
    sections = split_sections(output)
    props = parse_getprop(sections.get("getprop", ""))
    kernel_os = none_if_blank(sections.get("uname_o"))
    machine = none_if_blank(sections.get("uname_m"))
    android_sdk = bounded_int(props.get("ro.build.version.sdk"), max_digits=4)
    online = parse_cpu_list(sections.get("online", ""))
    uid_text = (sections.get("uid") or "").strip()
    is_root = uid_text == "0"
    return DeviceFacts(
        serial=serial,
        model=props.get("ro.product.model"),
        manufacturer=props.get("ro.product.manufacturer"),
        android_sdk=android_sdk,
        fingerprint=props.get("ro.build.fingerprint"),
        soc_model=props.get("ro.soc.model"),
        abi=checked_abi(props.get("ro.product.cpu.abi") or abi_of_machine(machine), serial),
        platform=platform_of(kernel_os, android_sdk),
        kernel_os=kernel_os,
        machine=machine,
        cores=parse_cores(sections.get("cpufreq", ""), online),
        thermal_zones=parse_thermal_zones(sections.get("thermal", "")),
        storage_free_bytes=parse_df_available_bytes(sections.get("df", "")),
        is_root=is_root,
        can_drop_caches=is_root and (sections.get("drop_caches") or "").strip() == "writable",
        loopback=props.get(LOOPBACK_PROPERTY) == "1",
        emulator="1" in (props.get("ro.kernel.qemu"), props.get("ro.boot.qemu")),
        cpu_emulation=props.get(CPU_EMULATION_PROPERTY),  # shown escaped; never a path
    )


def checked_abi(abi: str | None, serial: str) -> str | None:
    """The device's ABI when it is one of the known ABIs (None when it reported none); anything else is
    refused, before it can become part of a host path (``<build_root>/<platform>-<abi>/bundle``)."""
    if abi is None or is_known_abi(abi):
        return abi
    raise UnsupportedDevice(
        f"{shown(serial)} reports the ABI {shown(abi)!r}, which is none of the known ABIs "
        f"({', '.join(KNOWN_ABIS)}); splitbench refuses the device: check that it is the device you meant")


def bounded_text(text: str | None) -> str | None:
    """Device text cut to MAX_DEVICE_TEXT_CHARS characters."""
    return None if text is None else text[:MAX_DEVICE_TEXT_CHARS]


def bounded_int(text: str | None, max_digits: int, signed: bool = False) -> int | None:
    """A number the device printed: ASCII digits only (no Unicode digits, no underscores, no exponent), at most
    `max_digits` of them; anything else is None."""
    pattern = rf"-?[0-9]{{1,{max_digits}}}" if signed else rf"[0-9]{{1,{max_digits}}}"
    text = (text or "").strip()
    return int(text) if re.fullmatch(pattern, text, flags=re.ASCII) else None


def none_if_blank(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return bounded_text(text) or None


def parse_getprop(text: str) -> dict[str, str]:
    """``key=value`` lines -> dict; empty values are left out, values are cut to MAX_DEVICE_TEXT_CHARS."""
    props = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and value.strip() and key.strip() in GETPROP_KEYS:
            props[key.strip()] = bounded_text(value.strip()) or ""
    return props


def platform_of(kernel_os: str | None, android_sdk: int | None) -> str | None:
    """"android" for Android, "linux" for GNU/Linux and other Linux userlands.

    `uname -o` decides; when it names neither (an old toolbox), an Android SDK level means Android.
    """
    name = (kernel_os or "").strip().lower()
    if name == "android":
        return "android"
    if name in ("gnu/linux", "linux"):
        return "linux"
    if android_sdk:
        return "android"
    return "linux" if name else None


def parse_cpu_list(text: str) -> list[int] | None:
    """Kernel CPU list such as ``0-3,6`` -> [0, 1, 2, 3, 6]; blank, malformed or beyond MAX_CORES -> None."""
    text = text.strip()
    if not text:
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first_text, dash, last_text = part.partition("-")
        first = bounded_int(first_text, max_digits=4)
        last = bounded_int(last_text, max_digits=4) if dash else first
        if first is None or last is None or not first <= last < MAX_CORES:
            return None
        cpus.update(range(first, last + 1))
    return sorted(cpus)


def parse_cores(cpufreq_text: str, online: list[int] | None) -> list[CoreFacts]:
    """``index|max_khz|governor`` lines, restricted to the online cores when that list is known."""
    by_index: dict[int, CoreFacts] = {}
    for line in cpufreq_text.splitlines():
        parts = line.split("|")
        index = bounded_int(parts[0], max_digits=4) if len(parts) == 3 else None
        if index is None or index >= MAX_CORES:
            continue
        by_index[index] = CoreFacts(
            index=index,
            max_freq_khz=bounded_int(parts[1], max_digits=9),
            governor=none_if_blank(parts[2]),
        )
    indices = online if online is not None else sorted(by_index)
    return [by_index.get(i, CoreFacts(index=i, max_freq_khz=None, governor=None)) for i in indices]


def parse_thermal_zones(text: str) -> list[ThermalZoneFacts]:
    """``zone|type|millidegrees`` lines -> zones; unreadable temperatures are None."""
    zones: dict[int, ThermalZoneFacts] = {}
    for line in text.splitlines():
        parts = line.split("|")
        zone = bounded_int(parts[0], max_digits=6) if len(parts) == 3 else None
        if zone is None or (zone not in zones and len(zones) >= MAX_THERMAL_ZONES):
            continue
        zones[zone] = ThermalZoneFacts(zone=zone, type=none_if_blank(parts[1]), temp_c=millidegrees_to_c(parts[2]))
    return sorted(zones.values(), key=lambda z: z.zone)


def millidegrees_to_c(text: str) -> float | None:
    """Thermal ``temp`` file -> degrees C. Most kernels report millidegrees; a few report degrees."""
    value = bounded_int(text, max_digits=9, signed=True)
    if value is None:
        return None
    return round(value / 1000.0, 3) if abs(value) >= 1000 else float(value)


def parse_df_available_bytes(text: str) -> int | None:
    """``df -k`` output -> available bytes of the (single) filesystem listed; None if unparsable.

    A long filesystem name can wrap onto its own line, so the numbers are read from the
    end of the output: ... 1K-blocks Used Available Use% Mounted-on.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    tokens = " ".join(lines[1:]).split()
    if len(tokens) < 4:
        return None
    available_kib = bounded_int(tokens[-3], max_digits=15)  # up to an exabyte
    return available_kib * 1024 if available_kib is not None else None
