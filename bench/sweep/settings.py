"""The settings of one sweep (what is measured and how), checked on construction, and the one list of the sweep's
command-line flags: every field that has a flag declares it here (its help, and its flag when that is not the
field's name), and bench.sweep.setting_flags makes the argparse options and reads them back from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bench.errors import SettingsError

LIST_SETTINGS = ("configurations", "backends", "formats")


def setting(default: Any, help: str | None = None, flag: str | None = None) -> Any:
    """A SweepConfig field. `help` (formatted with `default` and `defaults`, a SweepConfig of the defaults) gives it
    a command-line flag: `flag`, else --<field name with dashes>. A bool setting that is on by default gets a
    switch that turns it off (name that flag --no-...). Without `help` the field has no flag."""
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass(frozen=True)
class SweepConfig:
    iterations: int = setting(60, "timed inferences per launch (default {default})")
    warmup: int = setting(1, "warm-up inferences per launch (default {default})")
    launches: int = setting(3, "process launches per program (default {default})")
    cooldown_s: float = setting(5.0, "pause between programs (default {default})")
    cooldown_max_s: float = setting(60.0, "longest wait for the temperature to come back (default {default})")
    cooldown_margin_c: float = setting(2.0)
    max_time_ms: int = setting(0, "cap of the timed loop per launch (runner option; 0 = none)")  # passed to the runner
    core: int | None = setting(None, "CPU core to pin to (default: the fastest online core)")  # None = the fastest
    threads: int = setting(1)
    configurations: tuple[str, ...] | None = setting(
        None, "configurations to run, e.g. full,conv5_1_simple", flag="--configs")
    backends: tuple[str, ...] | None = setting(  # xnnpack, portable, lite, ... (None = all)
        None, "backends to run, e.g. xnnpack,lite (default: all)")
    formats: tuple[str, ...] | None = setting(  # program file kinds: pte, ptl (None = all)
        None, "program file formats to run: pte, ptl (default: both)")
    launch_timeout_s: float = setting(1800.0, "kill a launch after this long (default {default:.0f})")
    drop_caches: bool = setting(  # try before each program's first launch (root only)
        True, "do not drop the page cache before first launches even when root", flag="--no-drop-caches")
    reconnect_attempts: int = setting(
        4, "reconnections tried when the device drops away, waiting {defaults.reconnect_backoff_s:.0f} s, "
           "then twice as long each time (default {default})")
    reconnect_backoff_s: float = setting(2.0)
    measure_core_peak: bool = setting(  # measure the pinned core's peak fp32 FMA rate once, before the sweep
        True, "do not measure the pinned core's peak fp32 FMA rate before the sweep", flag="--no-core-peak")
    target_ci_pct: float | None = setting(  # add launches until the median's 95 % interval is within +-this % ...
        None, "add launches to a program until its median's 95%% interval is within +-this %% "
              "(default: off; the interval is the report's)")
    max_launches: int = setting(  # ... or a program has this many launches
        10, "cap of launches per program with --target-ci-pct (default {default})")

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
    """The flag of a setting (its declared one, else --<name with dashes>)."""
    declared = next((f.metadata.get("flag") for f in fields(SweepConfig) if f.name == field_name), None)
    return declared or "--" + field_name.replace("_", "-")
