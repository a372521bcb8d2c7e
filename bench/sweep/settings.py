"""The settings of one sweep (what is measured and how), checked on construction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from bench.errors import SettingsError

LIST_SETTINGS = ("configurations", "backends", "formats")


@dataclass(frozen=True)
class SweepConfig:
    iterations: int = 60
    warmup: int = 1
    launches: int = 3
    cooldown_s: float = 5.0
    cooldown_max_s: float = 60.0
    cooldown_margin_c: float = 2.0
    max_time_ms: int = 0  # 0 = no cap (passed to the runner)
    core: int | None = None  # None = the fastest online core
    threads: int = 1
    configurations: tuple[str, ...] | None = None
    backends: tuple[str, ...] | None = None  # xnnpack, portable, lite, ... (None = all)
    formats: tuple[str, ...] | None = None  # program file kinds: pte, ptl (None = all)
    launch_timeout_s: float = 1800.0
    drop_caches: bool = True  # try before each program's first launch (root only)
    reconnect_attempts: int = 4
    reconnect_backoff_s: float = 2.0
    measure_core_peak: bool = True  # measure the pinned core's peak fp32 FMA rate once, before the sweep
    target_ci_pct: float | None = None  # add launches until the median's 95 % interval is within +-this % ...
    max_launches: int = 10  # ... or a program has this many launches

    def __post_init__(self):
        at_least = {"iterations": 1, "warmup": 0, "launches": 1, "cooldown_s": 0, "cooldown_max_s": 0,
                    "cooldown_margin_c": 0, "max_time_ms": 0, "threads": 1, "launch_timeout_s": 1,
                    "reconnect_attempts": 0, "reconnect_backoff_s": 0}
        for name, minimum in at_least.items():
            value = getattr(self, name)
            if value < minimum:
                raise SettingsError(f"{option_name(name)} is {value}; it must be at least {minimum}")
        if self.cooldown_max_s < self.cooldown_s:
            raise SettingsError(f"--cooldown-max-s ({self.cooldown_max_s}) is below --cooldown-s ({self.cooldown_s}); "
                                "raise --cooldown-max-s or lower --cooldown-s")
        if self.target_ci_pct is not None and self.target_ci_pct <= 0:
            raise SettingsError(f"--target-ci-pct is {self.target_ci_pct}; give a positive half-width in percent, e.g. 2")
        if self.target_ci_pct is not None and self.max_launches < self.launches:
            raise SettingsError(f"--max-launches ({self.max_launches}) is below --launches ({self.launches}); "
                                "raise --max-launches")
        if self.core is not None and self.core < 0:
            raise SettingsError(f"--core is {self.core}; pass a core index >= 0 or leave it out for the fastest core")

    def to_json(self) -> dict:
        data = asdict(self)
        for name in LIST_SETTINGS:
            data[name] = list(data[name]) if data[name] is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> SweepConfig:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in LIST_SETTINGS:
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values)


def option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")
