"""The paper's 'full vs split' comparison: (full - split) / split * 100 %, under every reading of 'split'."""

from dataclasses import asdict, dataclass

import pandas as pd

from formats.paper import FULL_CONFIGURATION, PAPER_ARCH, PAPER_SPLIT_CONFIGURATIONS

PAPER_MEMORY_INCREASE_PERCENT = 217.66
PAPER_LOAD_INCREASE_PERCENT = 534.49

PLATFORM_KEYS: list[str] = ["device", "core", "threads", "format", "backend"]

MEAN_OF_SPLITS = "mean of the split configurations"
MIN_SPLIT = "smallest split configuration"
MAX_SPLIT = "largest split configuration"


@dataclass(frozen=True)
class Measure:
    quantity: str       # "memory" | "load time"
    name: str           # e.g. "peak (VmHWM)"
    summary_column: str
    unit: str
    paper_increase_percent: float


MEASURES: tuple[Measure, ...] = (
    Measure("memory", "peak (VmHWM)", "peak_memory_median_kb", "kB", PAPER_MEMORY_INCREASE_PERCENT),
    Measure("memory", "steady (RSS after the runs)", "steady_memory_median_kb", "kB", PAPER_MEMORY_INCREASE_PERCENT),
    Measure("load time", "warm load", "warm_load_median_ms", "ms", PAPER_LOAD_INCREASE_PERCENT),
    Measure("load time", "first load", "first_load_median_ms", "ms", PAPER_LOAD_INCREASE_PERCENT),
)

HEADLINE_MEASURE_NAMES = {"memory": "peak (VmHWM)", "load time": "warm load"}
HEADLINE_FALLBACK_MEASURE_NAMES = {"load time": "first load"}


@dataclass(frozen=True)
class ReproductionRow:
    device: str
    core: int
    threads: int
    format: str
    backend: str
    quantity: str
    measure: str
    split_reference: str
    split_configurations: str
    split_count: int
    full_value: float
    split_value: float
    unit: str
    increase_percent: float
    paper_increase_percent: float
    headline: bool


def percent_increase(full_value: float, split_value: float) -> float:
    """How much more the full model needs than the split one, in percent of the split one."""
    if split_value == 0 or pd.isna(split_value) or pd.isna(full_value):
        return float("nan")
    return (full_value - split_value) / split_value * 100.0


def _split_references(split_values: dict[str, float]) -> list[tuple[str, list[str], float]]:
    """(reference name, configurations it covers, value) for every reading of 'split'."""
    names = list(split_values)
    values = list(split_values.values())
    smallest = min(split_values, key=split_values.__getitem__)
    largest = max(split_values, key=split_values.__getitem__)
    references = [
        (MEAN_OF_SPLITS, names, sum(values) / len(values)),
        (MIN_SPLIT, [smallest], split_values[smallest]),
        (MAX_SPLIT, [largest], split_values[largest]),
    ]
    references += [(configuration, [configuration], value) for configuration, value in split_values.items()]
    return references


def _headline_measure_names(platform: pd.DataFrame) -> dict[str, str]:
    names = dict(HEADLINE_MEASURE_NAMES)
    full_warm = platform.loc[platform["configuration"] == FULL_CONFIGURATION, "warm_load_median_ms"]
    if full_warm.isna().all():
        names.update(HEADLINE_FALLBACK_MEASURE_NAMES)
    return names


def reproduction_rows(summary: pd.DataFrame) -> list[ReproductionRow]:
    """The paper's comparison, on VGG-16 programs only (other architectures have their own "full")."""
    rows: list[ReproductionRow] = []
    if not summary.empty:
        summary = summary[summary["arch"] == PAPER_ARCH]
    if summary.empty:
        return rows
    for key, platform in summary.groupby(PLATFORM_KEYS, sort=False):
        by_configuration = platform.set_index("configuration")
        if FULL_CONFIGURATION not in by_configuration.index:
            continue
        headline_names = _headline_measure_names(platform)
        for measure in MEASURES:
            full_value = by_configuration.at[FULL_CONFIGURATION, measure.summary_column]
            split_values = {
                configuration: float(by_configuration.at[configuration, measure.summary_column])
                for configuration in PAPER_SPLIT_CONFIGURATIONS
                if configuration in by_configuration.index and not pd.isna(by_configuration.at[configuration, measure.summary_column])
            }
            if pd.isna(full_value) or not split_values:
                continue
            for reference, covered, split_value in _split_references(split_values):
                rows.append(ReproductionRow(
                    **dict(zip(PLATFORM_KEYS, key)), quantity=measure.quantity, measure=measure.name,
                    split_reference=reference, split_configurations=", ".join(covered),
                    split_count=len(covered), full_value=float(full_value),
                    split_value=split_value, unit=measure.unit,
                    increase_percent=percent_increase(float(full_value), split_value),
                    paper_increase_percent=measure.paper_increase_percent,
                    headline=reference == MEAN_OF_SPLITS and headline_names.get(measure.quantity) == measure.name,
                ))
    return rows


def reproduction_table(summary: pd.DataFrame) -> pd.DataFrame:
    columns = list(ReproductionRow.__dataclass_fields__)
    return pd.DataFrame([asdict(row) for row in reproduction_rows(summary)], columns=columns)


def _mean_split(platform: pd.DataFrame, column: str) -> float:
    splits = platform[platform["configuration"].isin(PAPER_SPLIT_CONFIGURATIONS)][column].dropna()
    return float(splits.mean()) if len(splits) else float("nan")


def ratio_explanations(summary: pd.DataFrame, launches: pd.DataFrame) -> list[str]:
    """Why each backend's memory ratio lands where it does, from this run's own numbers: what the runner process
    holds before it loads anything (its runtime), against the program files (the weights) and the peak memory."""
    sentences: list[str] = []
    if summary.empty:
        return sentences
    vgg = summary[summary["arch"] == PAPER_ARCH]
    ok = launches[(launches["status"] == "ok") & (launches["arch"] == PAPER_ARCH)]
    for key, platform in vgg.groupby(PLATFORM_KEYS, sort=False):
        full = platform[platform["configuration"] == FULL_CONFIGURATION]
        if full.empty:
            continue
        identity = dict(zip(PLATFORM_KEYS, key))
        baseline = ok[(ok["device"] == identity["device"]) & (ok["core"] == identity["core"])
                      & (ok["threads"] == identity["threads"]) & (ok["backend"] == identity["backend"])]["rss_baseline_kb"]
        full_file, split_file = float(full["model_size_bytes"].iloc[0]), _mean_split(platform, "model_size_bytes")
        full_peak, split_peak = float(full["peak_memory_median_kb"].iloc[0]), _mean_split(platform, "peak_memory_median_kb")
        if any(pd.isna(value) for value in (split_file, split_peak)) or baseline.dropna().empty:
            continue
        baseline_kb = float(baseline.dropna().median())
        share = baseline_kb / split_peak
        reason = (f"that fixed runtime is {share:.0%} of a split's peak, so it dilutes the weights' ratio"
                  if share >= 0.25 else
                  f"that fixed runtime is only {share:.0%} of a split's peak, so memory follows the weights")
        sentences.append(
            f"{identity['backend']} ({identity['device']}): the runner holds {baseline_kb / 1024:.0f} MB before loading "
            f"anything; the full program file is {full_file / 1e6:.0f} MB against {split_file / 1e6:.0f} MB for the "
            f"average split ({percent_increase(full_file, split_file):+.0f}%), and the peak memory is "
            f"{full_peak / 1024:.0f} MB against {split_peak / 1024:.0f} MB ({percent_increase(full_peak, split_peak):+.0f}%): "
            f"{reason}.")
    return sentences
