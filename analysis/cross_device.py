"""The cross-device comparison: when the results hold runs of two or more devices (a `--serial a,b` group, or
several runs given together), one row per device and backend (model, SoC/ABI, the pinned core and its measured
peak, the paper's memory and load-time ratios, the full model's median time) and, per metric, the devices side
by side for every configuration with their 95 % intervals and "n.s." where a device's interval overlaps the first
device's. Runs of one device keep their report as it is: this section is left out.

The device dimension here is the run's device, told apart by its serial when two devices report the same model
(two loopback devices, two phones of one kind); the single-device tables keep naming devices by model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.cross_device_figures import CROSS_DEVICE_METRICS, plot_cross_device_metric
from analysis.devices import device_kind, device_label
from analysis.figures import FigureFiles
from analysis.loading import LoadedResults
from analysis.markdown import markdown_table
from analysis.reproduction import MEAN_OF_SPLITS, reproduction_table
from analysis.run_context import RunContext
from analysis.statistics import summarize
from analysis.tidy import TidyTables
from formats.paper import FULL_CONFIGURATION, PAPER_ARCH, backend_sort_key
from stats import significance
from stats.confidence import median_interval

TABLE_NAME = "cross_device"
METRIC_TABLE_NAME = "cross_device_metrics"


@dataclass
class CrossDeviceOutputs:
    section: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[FigureFiles] = field(default_factory=list)


def device_names(contexts: list[RunContext], serials: dict[str, str]) -> dict[str, str]:
    """run id -> the device's name in this section: its model, with the serial when two devices share a model."""
    models: dict[str, set[str]] = {}
    for context in contexts:
        models.setdefault(device_label(context.device), set()).add(serials.get(context.run_id, context.device.serial))
    names = {}
    for context in contexts:
        label = device_label(context.device)
        serial = serials.get(context.run_id, context.device.serial)
        names[context.run_id] = f"{label} ({serial})" if len(models[label]) > 1 else label
    return names


def run_serials(loaded: LoadedResults) -> dict[str, str]:
    return {run.run_id: str((run.run_info or {}).get("serial_spec") or "") for run in loaded.runs}


def with_device_names(table: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    if table.empty:
        return table
    return table.assign(device=table["run_id"].map(names).fillna(table["device"]))


def metric_intervals(tables: TidyTables) -> pd.DataFrame:
    """Per device x configuration x backend and metric: the median and its 95 % interval, and whether it differs
    from the first device's (intervals apart) for the same configuration and backend."""
    records = []
    ok = tables.launches[tables.launches["status"] == "ok"] if not tables.launches.empty else tables.launches
    keys = ["device", "core", "threads", "arch", "configuration", "format", "backend"]
    for metric in CROSS_DEVICE_METRICS:
        source = tables.samples if metric.from_samples else ok
        if not source.empty and metric.launch_kind is not None:
            source = source[source["launch_kind"] == metric.launch_kind]
        if source.empty:
            continue
        for key, group in source.groupby(keys, sort=False):
            if metric.from_samples:
                launches = [launch["time_ms"].tolist() for _, launch in group.groupby(["run_id", "launch_index"], sort=False)]
            else:
                launches = [[float(value) * metric.scale] for value in group[metric.column].dropna()]
            if not launches:
                continue
            interval = median_interval(launches)
            records.append({**dict(zip(keys, key)), "metric": metric.name, "unit": metric.unit,
                            "median": interval.median_ms, "ci_low": interval.low_ms, "ci_high": interval.high_ms,
                            "n": interval.n_samples})
    table = pd.DataFrame(records, columns=keys + ["metric", "unit", "median", "ci_low", "ci_high", "n"])
    return _against_first_device(table)


def _against_first_device(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return table.assign(vs_first_device_ratio=pd.Series(dtype=float),
                            vs_first_device_significant=pd.Series(dtype=object))
    first_device = table["device"].iloc[0]
    ratios: list[float] = []
    significant: list[bool | None] = []
    reference = {(row.metric, row.arch, row.configuration, row.format, row.backend): row
                 for row in table.itertuples() if row.device == first_device}
    for row in table.itertuples():
        base = reference.get((row.metric, row.arch, row.configuration, row.format, row.backend))
        if base is None or row.device == first_device:
            ratios.append(float("nan"))
            significant.append(None)
            continue
        ratios.append(row.median / base.median if base.median else float("nan"))
        significant.append(not significance.intervals_overlap(row.ci_low, row.ci_high, base.ci_low, base.ci_high))
    return table.assign(vs_first_device_ratio=ratios, vs_first_device_significant=significant)


def device_table(contexts: list[RunContext], names: dict[str, str], summary: pd.DataFrame,
                 metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per device and backend."""
    reproduction = reproduction_table(summary)
    headline = reproduction[reproduction["headline"] & (reproduction["split_reference"] == MEAN_OF_SPLITS)] \
        if not reproduction.empty else reproduction
    records = []
    for context in contexts:
        name = names[context.run_id]
        device = context.device
        core = context.cores[0] if context.cores else None
        backends = sorted(set(summary.loc[summary["device"] == name, "backend"].dropna()), key=backend_sort_key) \
            if not summary.empty else []
        for backend in backends or [None]:
            record = {
                "device": name, "model": device.model, "kind": device_kind(device),
                "soc": device.soc_model, "abi": device.abi, "transport": device.transport,
                "core": core,
                "core_max_freq_khz": context.core_max_freq_khz.get(core) if core is not None else None,
                "core_peak_gflop_per_s": device.core_peak_gflops(core) if core is not None else None,
                "backend": backend,
                "memory_increase_percent": _headline(headline, name, backend, "memory"),
                "load_increase_percent": _headline(headline, name, backend, "load time"),
            }
            full = metrics[(metrics["device"] == name) & (metrics["backend"] == backend)
                           & (metrics["configuration"] == FULL_CONFIGURATION) & (metrics["arch"] == PAPER_ARCH)
                           & (metrics["metric"] == CROSS_DEVICE_METRICS[0].name)] if not metrics.empty else metrics
            record["full_median_ms"] = float(full["median"].iloc[0]) if len(full) else None
            record["full_ci_ms"] = (f"{full['ci_low'].iloc[0]:.2f}-{full['ci_high'].iloc[0]:.2f}" if len(full) else None)
            records.append(record)
    table = pd.DataFrame(records)
    return table.drop_duplicates(subset=["device", "backend"]).reset_index(drop=True) if not table.empty else table


def _headline(headline: pd.DataFrame, device: str, backend: str | None, quantity: str) -> float | None:
    if headline.empty:
        return None
    match = headline[(headline["device"] == device) & (headline["backend"] == backend) & (headline["quantity"] == quantity)]
    return float(match["increase_percent"].iloc[0]) if len(match) else None


def is_multi_device(contexts: list[RunContext], names: dict[str, str]) -> bool:
    return len({names[context.run_id] for context in contexts}) >= 2


def cross_device_outputs(loaded: LoadedResults, tables: TidyTables, contexts: list[RunContext],
                         figures_dir: Path, out_dir: Path) -> CrossDeviceOutputs:
    """The section, its tables and figures; empty outputs for the results of one device."""
    names = device_names(contexts, run_serials(loaded))
    if not is_multi_device(contexts, names) or tables.samples.empty:
        return CrossDeviceOutputs()
    named = TidyTables(**{**tables.__dict__, "samples": with_device_names(tables.samples, names),
                          "launches": with_device_names(tables.launches, names)})
    summary = summarize(named.samples, named.launches)
    metrics = metric_intervals(named)
    devices = device_table(contexts, names, summary, metrics)
    figures = [figure for metric in CROSS_DEVICE_METRICS
               if (figure := plot_cross_device_metric(metrics, metric, figures_dir)) is not None]
    section = render_section(devices, metrics, figures, out_dir)
    return CrossDeviceOutputs(section, {TABLE_NAME: devices, METRIC_TABLE_NAME: metrics}, figures)


DEVICE_HEADERS = {
    "device": "device", "kind": "kind", "soc": "SoC", "abi": "ABI", "transport": "reached via", "core": "pinned core",
    "core_peak_gflop_per_s": "core peak (GFLOP/s)", "backend": "backend",
    "memory_increase_percent": "memory: full vs split (+%)", "load_increase_percent": "load time: full vs split (+%)",
    "full_median_ms": "full model (ms, median)", "full_ci_ms": "95 % interval (ms)",
}


def render_section(devices: pd.DataFrame, metrics: pd.DataFrame, figures: list[FigureFiles], out_dir: Path) -> str:
    first = devices["device"].iloc[0]
    parts = [
        "## Devices compared",
        "",
        f"{devices['device'].nunique()} devices, each sweep pinned to one core (loopback devices of one host may share it). The ratios are the paper's "
        "(full model against the mean of the split configurations; peak memory and warm load time); the paper "
        "reports +217.66 % memory and +534.49 % load time.",
        "",
        markdown_table(devices, {column: header for column, header in DEVICE_HEADERS.items() if column in devices}),
        "",
        f"In the figures each configuration shows the devices side by side: the median with its 95 % interval; "
        f"\"n.s.\" marks a device whose interval overlaps that of the first device ({first}), so the two cannot be "
        "told apart.",
    ]
    apart = metrics.dropna(subset=["vs_first_device_ratio"])
    if not apart.empty:
        told = int((apart["vs_first_device_significant"] == True).sum())  # noqa: E712 - a column of True/False/None
        parts += ["", f"Of {len(apart)} comparisons with {first}, {told} differ(s) beyond their intervals."]
    for figure in figures:
        png = next(path for path in figure.paths if path.suffix == ".png")
        parts += ["", f"### {figure.title}", "", f"![{figure.title}]({png.relative_to(out_dir).as_posix()})"]
    return "\n".join(parts)
