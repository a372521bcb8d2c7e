"""The pause between programs: a fixed wait, then, where temperatures are readable, a wait
until the hottest zone is back within a margin of the sweep's starting temperature (capped)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

POLL_INTERVAL_S = 2.0


@dataclass(frozen=True)
class CooldownPolicy:
    pause_s: float
    max_s: float
    margin_c: float


@dataclass(frozen=True)
class CooldownResult:
    waited_s: float
    hottest_start_c: float | None
    hottest_end_c: float | None
    reached_target: bool  # False when the cap ended the wait, or no temperature could be read


def cool_down(policy: CooldownPolicy, baseline_hottest_c: float | None,
              read_hottest_c: Callable[[], float | None],
              sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic) -> CooldownResult:
    """Wait ``pause_s``, then poll the hottest temperature until it is at most
    ``baseline + margin`` or ``max_s`` has passed since the start."""
    started = clock()
    hottest_start = read_hottest_c()
    sleep(policy.pause_s)
    hottest = read_hottest_c()
    if baseline_hottest_c is None or hottest is None:
        return CooldownResult(clock() - started, hottest_start, hottest, reached_target=False)
    target = baseline_hottest_c + policy.margin_c
    while hottest is not None and hottest > target:
        remaining = policy.max_s - (clock() - started)
        if remaining <= 0:
            break
        sleep(min(POLL_INTERVAL_S, remaining))
        hottest = read_hottest_c()
    reached = hottest is not None and hottest <= target
    return CooldownResult(clock() - started, hottest_start, hottest, reached_target=reached)
