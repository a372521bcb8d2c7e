"""Which CPU core the runner is pinned to."""

from __future__ import annotations

from bench.errors import CoreUnavailable
from formats.device_facts import DeviceFacts


def choose_core(facts: DeviceFacts, requested: int | None = None) -> int:
    """The requested core if it is online, else the fastest one.

    Fastest = highest cpuinfo_max_freq; ties (or no frequencies at all) go to the highest
    index, which on big.LITTLE phones is a big core.
    """
    online = facts.online_core_indices
    if requested is not None:
        if online and requested not in online:
            raise CoreUnavailable(
                f"core {requested} is not online on {facts.serial} (online: {format_cores(online)}); "
                "pass --core with one of those or leave it out to use the fastest"
            )
        if requested < 0:
            raise CoreUnavailable(f"core {requested} is negative; pass --core with a core index >= 0")
        return requested
    if not facts.cores:
        return 0
    fastest = max(facts.cores, key=lambda core: (core.max_freq_khz or 0, core.index))
    return fastest.index


def format_cores(cores: list[int]) -> str:
    return ",".join(str(core) for core in cores)
