"""Things in the data that weaken the numbers: throttling, pinning misses, noisy configurations, capped launches,
a core peak read too low."""

from collections.abc import Callable

import pandas as pd

from analysis.run_context import RunContext

THROTTLE_FRACTION = 0.9        # a core read below this fraction of its maximum frequency may have been throttled
NOISY_CV_PERCENT = 10.0        # inference times spread more than this are worth a second look
WIDE_INTERVAL_PERCENT = 5.0    # a median's 95 % interval wider than +-this is too loose to tell configurations apart
PREEMPTED_SHARE = 0.10         # more than this share of samples preempted (runner v2) means a disturbed measurement


def _frequency_caveat(context: RunContext) -> str | None:
    if context.core_freq_range_khz is None:
        return None
    lowest_khz = context.core_freq_range_khz[0]
    max_khz = max((freq for freq in context.core_max_freq_khz.values() if freq), default=None)
    if max_khz is None or lowest_khz >= THROTTLE_FRACTION * max_khz:
        return None
    return (f"Run {context.run_id}: the core was read at {lowest_khz / 1e6:.2f} GHz around some launches, below its "
            f"{max_khz / 1e6:.2f} GHz maximum: thermal throttling or a power-saving governor may have slowed those launches.")


def _pinning_caveat(context: RunContext) -> str | None:
    if not context.ok_launches_seen_off_core:
        return None
    return (f"Run {context.run_id}: {context.ok_launches_seen_off_core} successful launch(es) saw the runner on a CPU "
            "other than the requested core; their times mix cores.")


def _capped_caveat(context: RunContext) -> str | None:
    if context.recorded_inferences_range is None or not context.iterations:
        return None
    fewest = context.recorded_inferences_range[0]
    if fewest >= min(context.iterations):
        return None
    return (f"Run {context.run_id}: some launches recorded only {fewest} timed inferences of the {min(context.iterations)} "
            "asked for (the time cap stopped them).")


def _flagged(summary: pd.DataFrame, column: str, limit: float, label: Callable[[float], str],
             scale: float = 1.0) -> str | None:
    """"<configuration>.<backend> on <device> (<label of the value>)" for every row whose `column` times `scale`
    exceeds `limit`, joined by commas; None when no row does (or the summary has no such column)."""
    if summary.empty or column not in summary:
        return None
    flagged = summary[summary[column] * scale > limit]
    if flagged.empty:
        return None
    return ", ".join(f"{row.configuration}.{row.backend} on {row.device} ({label(getattr(row, column))})"
                     for row in flagged.itertuples())


def _noise_caveats(summary: pd.DataFrame) -> list[str]:
    listed = _flagged(summary, "coefficient_of_variation", NOISY_CV_PERCENT, lambda cv: f"{cv * 100.0:.0f}%",
                      scale=100.0)
    if listed is None:
        return []
    return [f"Inference times vary by more than {NOISY_CV_PERCENT:.0f}% (CV) for {listed}: other load on the device, "
            "frequency changes or too few samples; compare medians rather than means."]


def _precision_caveats(summary: pd.DataFrame) -> list[str]:
    """Configurations whose median is not sure enough: a wide interval, or many preempted samples."""
    if summary.empty or "median_ci_half_width_pct" not in summary:
        return []
    caveats = []
    wide = _flagged(summary, "median_ci_half_width_pct", WIDE_INTERVAL_PERCENT, lambda pct: f"+-{pct:.1f}%")
    if wide is not None:
        caveats.append(f"The median inference time's 95% interval is wider than +-{WIDE_INTERVAL_PERCENT:.0f}% for "
                       f"{wide}: add launches (bench --target-ci-pct) before comparing these configurations.")
    disturbed = _flagged(summary, "preempted_share", PREEMPTED_SHARE, lambda share: f"{share * 100:.0f}%")
    if disturbed is not None:
        caveats.append(f"More than {PREEMPTED_SHARE * 100:.0f}% of the timed inferences were preempted (wall time above "
                       f"the thread's CPU time) for {disturbed}: something else ran on the pinned core; re-run them.")
    return caveats


def _peak_caveats(summary: pd.DataFrame) -> list[str]:
    """A program cannot run faster than its core's peak: a share above 100 % means the peak reading was disturbed."""
    above = _flagged(summary, "peak_fraction", 1.0, lambda fraction: f"{fraction * 100:.0f}%")
    if above is None:
        return []
    return [f"The achieved GFLOP/s exceed the core's measured peak for {above}: the peak measurement was disturbed "
            "(something else ran on the core or the host); its shares of the peak are too high. Re-run the sweep, or "
            "check the core with scripts/bench_precision.py."]


def measurement_caveats(contexts: list[RunContext], summary: pd.DataFrame) -> list[str]:
    caveats = []
    for context in contexts:
        for caveat in (_frequency_caveat(context), _pinning_caveat(context), _capped_caveat(context)):
            if caveat:
                caveats.append(caveat)
    return caveats + _noise_caveats(summary) + _precision_caveats(summary) + _peak_caveats(summary)
