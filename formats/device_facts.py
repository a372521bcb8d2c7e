"""What the device is (docs/formats.md, section 4): identity, ABI, platform, cores, thermal zones, storage,
root, whether it is splitbench's loopback device or runs its CPU under emulation, and the measured peak fp32 FMA
rate of the cores the sweep used.

Collected by bench/ (bench.device.facts) and embedded in every results row and in run.json; read by
analysis/. Version 1 had no `loopback`, `emulator`, `cpu_emulation` or `core_peaks` fields: its reader derives
`loopback` from the model name the loopback device reported then. `transport` and `adb_server` (how the sweep
reached the device) came later within version 2; files without them read with None.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from formats.errors import ResultsError
from formats.schema import check_schema

DEVICE_FACTS_SCHEMA = "splitbench.device_facts"
DEVICE_FACTS_SCHEMA_VERSION = 2
DEVICE_FACTS_VERSIONS: tuple[int, ...] = (1, 2)
V1_LOOPBACK_MODEL = "splitbench loopback"  # how a version-1 file tells the loopback device apart


@dataclass(frozen=True)
class CoreFacts:
    index: int
    max_freq_khz: int | None
    governor: str | None


@dataclass(frozen=True)
class ThermalZoneFacts:
    zone: int
    type: str | None
    temp_c: float | None

    @property
    def key(self) -> str:
        return f"zone{self.zone}:{self.type or 'unknown'}"


@dataclass(frozen=True)
class DeviceFacts:
    serial: str
    model: str | None
    manufacturer: str | None
    android_sdk: int | None
    fingerprint: str | None
    soc_model: str | None
    abi: str | None
    platform: str | None  # "android" | "linux" | None
    kernel_os: str | None  # raw `uname -o`
    machine: str | None  # raw `uname -m`
    cores: list[CoreFacts] = field(default_factory=list)
    thermal_zones: list[ThermalZoneFacts] = field(default_factory=list)
    storage_free_bytes: int | None = None
    is_root: bool = False
    can_drop_caches: bool = False
    loopback: bool = False  # splitbench's loopback device: the runner ran on the sweep's own host
    emulator: bool = False  # the device says it is an emulator (ro.kernel.qemu / ro.boot.qemu)
    cpu_emulation: str | None = None  # e.g. "qemu-aarch64": instructions are translated, timings mean nothing
    core_peaks: list[dict] = field(default_factory=list)  # the runner's splitbench.core_peak objects, one per core measured
    transport: str | None = None  # how the sweep reached it: "direct" (adb-shell) or "server" (the adb server)
    adb_server: str | None = None  # HOST:PORT of that adb server (transport "server")
    schema: str = DEVICE_FACTS_SCHEMA
    schema_version: int = DEVICE_FACTS_SCHEMA_VERSION

    @property
    def online_core_indices(self) -> list[int]:
        return [core.index for core in self.cores]

    @property
    def is_android(self) -> bool:
        return self.platform == "android"

    def core_peak_gflops(self, index: int) -> float | None:
        """The measured peak fp32 FMA rate of core `index` (GFLOP/s), None when it was not measured."""
        return next((peak.get("peak_gflops") for peak in self.core_peaks if peak.get("core") == index), None)

    def core(self, index: int) -> CoreFacts | None:
        return next((core for core in self.cores if core.index == index), None)

    def to_json(self) -> dict:
        data = asdict(self)
        return {"schema": data.pop("schema"), "schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_json(cls, data: Any, where: str = "device facts") -> DeviceFacts:
        version = check_schema(data, DEVICE_FACTS_SCHEMA, DEVICE_FACTS_VERSIONS, where)
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING and f.name not in data]
        if required:
            raise ResultsError(f"{where} lacks {', '.join(required)}; the file is damaged: re-run the sweep")
        if version == 1:
            values["loopback"] = data.get("model") == V1_LOOPBACK_MODEL
        for name, record in (("cores", CoreFacts), ("thermal_zones", ThermalZoneFacts), ("core_peaks", None)):
            try:
                items = _list_of_objects(data.get(name, []))
                values[name] = [record(**item) for item in items] if record is not None else items
            except TypeError as error:
                raise ResultsError(f"{where}: field {name} is malformed ({error}); re-run the sweep") from None
        values["schema_version"] = DEVICE_FACTS_SCHEMA_VERSION
        check_types(values, where)
        return cls(**values)



TEXT_FIELDS = ("serial",)
OPTIONAL_TEXT_FIELDS = ("model", "manufacturer", "fingerprint", "soc_model", "abi", "platform", "kernel_os", "machine",
                        "cpu_emulation")
OPTIONAL_INTEGER_FIELDS = ("android_sdk", "storage_free_bytes")
FLAG_FIELDS = ("is_root", "can_drop_caches", "loopback", "emulator")


def _list_of_objects(value: Any) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError("expected a list of JSON objects")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_types(values: dict[str, Any], where: str) -> None:
    """ResultsError naming the first field whose value is not of the type bench/ writes."""
    def wrong(name: str, value: Any, expected: str) -> ResultsError:
        text = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return ResultsError(f"{where}: field {name} holds {text}, not {expected}; the file is damaged: re-run the sweep")

    for name in TEXT_FIELDS:
        if not isinstance(values.get(name), str):
            raise wrong(name, values.get(name), "text")
    for name in OPTIONAL_TEXT_FIELDS:
        if values.get(name) is not None and not isinstance(values[name], str):
            raise wrong(name, values[name], "text or null")
    for name in OPTIONAL_INTEGER_FIELDS:
        if values.get(name) is not None and not _is_int(values[name]):
            raise wrong(name, values[name], "an integer or null")
    for name in FLAG_FIELDS:
        if name in values and not isinstance(values[name], bool):
            raise wrong(name, values[name], "true or false")
    for core in values.get("cores", []):
        if not _is_int(core.index) or (core.max_freq_khz is not None and not _is_int(core.max_freq_khz)) \
                or (core.governor is not None and not isinstance(core.governor, str)):
            raise wrong("cores", core, "a core (integer index and frequency, text governor)")
    for zone in values.get("thermal_zones", []):
        if not _is_int(zone.zone) or (zone.type is not None and not isinstance(zone.type, str)) or (
                zone.temp_c is not None and (isinstance(zone.temp_c, bool) or not isinstance(zone.temp_c, (int, float)))):
            raise wrong("thermal_zones", zone, "a thermal zone (integer zone, text type, numeric temp_c)")
    for peak in values.get("core_peaks", []):
        if peak.get("peak_gflops") is not None and (isinstance(peak["peak_gflops"], bool)
                                                    or not isinstance(peak["peak_gflops"], (int, float))):
            raise wrong("core_peaks", peak, "a core peak (numeric peak_gflops)")
