"""The device's state around a launch: the chosen core's current frequency and every temperature."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bench.adb.scripts import ShellConnection, run_script, section_marker, split_sections
from bench.device.facts import parse_thermal_zones, thermal_loop


@dataclass(frozen=True)
class EnvSnapshot:
    cpu_cur_freq_khz: int | None
    temperatures_c: dict[str, float] = field(default_factory=dict)

    @property
    def hottest_c(self) -> float | None:
        return max(self.temperatures_c.values()) if self.temperatures_c else None

    def to_json(self) -> dict:
        return asdict(self)


def snapshot_script(core: int, prefix: str = "") -> str:
    """Shell lines printing sections ``<prefix>cur_freq`` and ``<prefix>thermal``."""
    return "\n".join([
        section_marker(prefix + "cur_freq"),
        f"cat /sys/devices/system/cpu/cpu{core}/cpufreq/scaling_cur_freq 2>/dev/null",
        section_marker(prefix + "thermal"), thermal_loop(),
        "true",
    ])


def parse_env_snapshot(output: str) -> EnvSnapshot:
    return env_snapshot_from_sections(split_sections(output))


def env_snapshot_from_sections(sections: dict[str, str], prefix: str = "") -> EnvSnapshot:
    freq_text = (sections.get(prefix + "cur_freq") or "").strip()
    zones = parse_thermal_zones(sections.get(prefix + "thermal", ""))
    return EnvSnapshot(
        cpu_cur_freq_khz=int(freq_text) if freq_text.isdigit() else None,
        temperatures_c={zone.key: zone.temp_c for zone in zones if zone.temp_c is not None},
    )


def read_env_snapshot(connection: ShellConnection, core: int) -> EnvSnapshot:
    """One shell round trip: scaling_cur_freq of ``core`` and all readable thermal zones."""
    return parse_env_snapshot(run_script(connection, snapshot_script(core), timeout_s=30).output)
