"""Reads the device facts embedded in results rows (and run.json) into one description used by tables and the report."""

from dataclasses import dataclass
from typing import Any, Iterable

LOOPBACK_MODEL = "splitbench loopback"


def first_present(mapping: dict[str, Any] | None, names: Iterable[str]) -> Any:
    """The value of the first of `names` that `mapping` holds with a non-null value, else None."""
    if not isinstance(mapping, dict):
        return None
    for name in names:
        value = mapping.get(name)
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class CoreFacts:
    index: int
    max_freq_khz: int | None
    governor: str | None


@dataclass(frozen=True)
class DeviceDescription:
    model: str
    manufacturer: str | None
    serial: str | None
    abi: str | None
    platform: str | None
    android_sdk: str | None
    is_root: bool | None
    cores: tuple[CoreFacts, ...]

    @property
    def label(self) -> str:
        return self.model

    @property
    def is_loopback(self) -> bool:
        """The loopback device runs the runner on this host, not on a phone."""
        return self.model == LOOPBACK_MODEL

    @property
    def is_android(self) -> bool:
        return "android" in (self.platform or "").lower()

    @property
    def kind(self) -> str:
        if self.is_loopback:
            return "loopback device: this host"
        return "Android device" if self.is_android else "not an Android device"

    def core(self, index: int) -> CoreFacts | None:
        for core in self.cores:
            if core.index == index:
                return core
        return None


def _read_cores(device: dict[str, Any]) -> tuple[CoreFacts, ...]:
    raw = first_present(device, ("cores", "cpus", "cpu_cores"))
    if isinstance(raw, dict):
        items = [dict(value, index=int(key)) if isinstance(value, dict) else {"index": int(key)} for key, value in raw.items()
                 if str(key).isdigit()]
    elif isinstance(raw, list):
        items = [item for item in raw if isinstance(item, dict)]
    else:
        items = []
    cores = []
    for item in items:
        index = first_present(item, ("index", "cpu", "core", "id"))
        if index is None:
            continue
        max_freq = first_present(item, ("max_freq_khz", "cpuinfo_max_freq_khz", "cpu_max_freq_khz"))
        governor = first_present(item, ("governor", "scaling_governor"))
        cores.append(CoreFacts(int(index), int(max_freq) if max_freq is not None else None, governor))
    return tuple(sorted(cores, key=lambda core: core.index))


def describe_device(device: dict[str, Any] | None, runner: dict[str, Any] | None = None) -> DeviceDescription:
    """Build a description from the row's device facts, falling back to the runner's own report for the ABI."""
    device = device or {}
    runner_info = (runner or {}).get("runner") if isinstance(runner, dict) else None
    model = first_present(device, ("model", "product_model", "ro.product.model")) or "unknown device"
    abi = first_present(device, ("abi", "cpu_abi", "ro.product.cpu.abi")) or first_present(runner_info, ("abi",))
    root = first_present(device, ("is_root", "root", "rooted"))
    sdk = first_present(device, ("android_sdk", "sdk", "sdk_version", "ro.build.version.sdk")) or None  # 0 = not Android
    return DeviceDescription(
        model=str(model),
        manufacturer=first_present(device, ("manufacturer", "product_manufacturer", "ro.product.manufacturer")),
        serial=first_present(device, ("serial",)),
        abi=abi,
        platform=first_present(device, ("platform", "os")),
        android_sdk=str(sdk) if sdk is not None else None,
        is_root=bool(root) if root is not None else None,
        cores=_read_cores(device),
    )
