"""The paper's Fig. 13 (inference time), Fig. 14 (loading time) and Fig. 15 (memory), drawn with matplotlib's Agg backend."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from analysis.configurations import display_name  # noqa: E402
from analysis.devices import device_label  # noqa: E402
from analysis.figure_files import FigureFiles, panel_axes, save_figure, use_log_scale  # noqa: E402
from analysis.run_context import RunContext  # noqa: E402
from formats.backends import BACKENDS  # noqa: E402
from formats.paper import order_backends, order_configurations  # noqa: E402

PANEL_KEYS = ["device", "core", "threads", "arch"]
MAX_DOTS_PER_BOX = 1500  # more timed inferences than this are drawn as a seeded random sample (the box uses all)
FALLBACK_COLOURS = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
GROUP_WIDTH = 0.8
KB_PER_MB = 1024.0


def backend_colour(backend: str, backends: list[str]) -> str:
    """The backend's colour in formats.backends' table, else one of the fallback palette by its place."""
    colour = BACKENDS[backend].colour if backend in BACKENDS else None
    if colour is not None:
        return colour
    return FALLBACK_COLOURS[backends.index(backend) % len(FALLBACK_COLOURS)]


def panel_caption(device: str, core: int, threads: int, contexts: list[RunContext], extra: str = "") -> str:
    freq = next((context.core_max_freq_khz.get(core) for context in contexts
                 if device_label(context.device) == device and core in context.cores), None)
    iterations = sorted({value for context in contexts if device_label(context.device) == device for value in context.iterations})
    freq_text = f" ({freq / 1e6:.2f} GHz max)" if freq else ""
    iterations_text = f", {'/'.join(str(value) for value in iterations)} timed inferences per launch" if iterations else ""
    return f"{device}, core {core}{freq_text}, {threads} thread{'s' if threads != 1 else ''}{iterations_text}{extra}"


def _panels(table: pd.DataFrame) -> list[tuple[tuple, pd.DataFrame]]:
    return [(key, group) for key, group in table.groupby(PANEL_KEYS, sort=True)]


def _slot_offsets(count: int) -> np.ndarray:
    width = GROUP_WIDTH / count
    return (np.arange(count) - (count - 1) / 2) * width


def _label_configurations(axis, configurations: list[str]) -> None:
    axis.set_xticks(range(len(configurations)))
    axis.set_xticklabels([display_name(configuration) for configuration in configurations], fontsize=9)
    axis.set_xlim(-0.6, len(configurations) - 0.4)
    axis.grid(axis="y", alpha=0.3)


PanelDrawer = Callable[[Any, tuple, pd.DataFrame], str]


def draw_panels(table: pd.DataFrame, contexts: list[RunContext], draw: PanelDrawer):
    """One panel per device, core, threads and architecture of `table`: `draw(axis, key, panel)` fills it and returns
    what its title adds after the architecture; the title is the panel's caption. Returns the figure."""
    panels = _panels(table)
    figure, axes = panel_axes(len(panels))
    for axis, (key, panel) in zip(axes, panels):
        device, core, threads, arch = key
        extra = draw(axis, key, panel)
        axis.set_title(panel_caption(device, core, threads, contexts, f"; {arch}{extra}"), fontsize=10)
    return figure


def _draw_interval(axis, x: float, width: float, comparison: pd.DataFrame | None, key: dict) -> None:
    """The median's 95 % interval as a black bar beside the box, and "n.s." when it overlaps the previous
    configuration's (analysis.significance)."""
    if comparison is None or comparison.empty:
        return
    match = comparison
    for column, value in key.items():
        match = match[match[column] == value]
    if match.empty:
        return
    row = match.iloc[0]
    axis.errorbar([x + width / 2], [row["median_ms"]], yerr=[[row["median_ms"] - row["median_ci_low_ms"]],
                                                             [row["median_ci_high_ms"] - row["median_ms"]]],
                  fmt="none", ecolor="black", elinewidth=1.2, capsize=2, zorder=4)
    if row["vs_previous_significant"] is False:
        axis.annotate("n.s.", (x, row["median_ci_high_ms"]), textcoords="offset points", xytext=(0, 4),
                      ha="center", fontsize=7)


def plot_inference_time(samples: pd.DataFrame, contexts: list[RunContext], out_dir: Path,
                        comparison: pd.DataFrame | None = None) -> FigureFiles:
    """Fig. 13: every timed inference, as a box (median, quartiles, 5-95 % whiskers) with the samples on top, the
    median's 95 % interval beside it, and "n.s." where it cannot be told apart from the previous configuration."""
    random = np.random.default_rng(0)

    def draw(axis, key: tuple, panel: pd.DataFrame) -> str:
        device, core, threads, arch = key
        configurations = order_configurations(panel["configuration"])
        backends = order_backends(panel["backend"])
        offsets = _slot_offsets(len(backends))
        box_width = GROUP_WIDTH / len(backends) * 0.8
        times_by_box = {key: group.to_numpy() for key, group in panel.groupby(["backend", "configuration"])["time_ms"]}
        for backend, offset in zip(backends, offsets):
            colour = backend_colour(backend, backends)
            for position, configuration in enumerate(configurations):
                times = times_by_box.get((backend, configuration), np.empty(0))
                if times.size == 0:
                    continue
                x = position + offset
                axis.boxplot([times], positions=[x], widths=box_width, whis=(5, 95), showfliers=False, patch_artist=True,
                             boxprops={"facecolor": colour, "alpha": 0.35, "edgecolor": colour},
                             medianprops={"color": "black"}, whiskerprops={"color": colour}, capprops={"color": colour})
                dots = times if times.size <= MAX_DOTS_PER_BOX else random.choice(times, MAX_DOTS_PER_BOX, replace=False)
                jitter = random.uniform(-box_width / 3, box_width / 3, dots.size)
                axis.scatter(x + jitter, dots, s=6, color=colour, alpha=0.6, linewidths=0)
                _draw_interval(axis, x, box_width, comparison, {"device": device, "core": core, "threads": threads,
                                                                 "arch": arch, "backend": backend,
                                                                 "configuration": configuration})
        use_log_scale(axis, panel["time_ms"].to_numpy(dtype=float))
        _label_configurations(axis, configurations)
        axis.set_ylabel("inference time (ms)")
        axis.legend(handles=[Patch(color=backend_colour(backend, backends), alpha=0.6, label=backend) for backend in backends],
                    title="backend", fontsize=8, loc="upper right")
        return ""

    figure = draw_panels(samples, contexts, draw)
    figure.suptitle("Inference time per configuration (box: quartiles, whiskers: 5th-95th percentile, dots: every timed "
                    f"inference (a random {MAX_DOTS_PER_BOX} of them when more),\nblack bar: the median's 95% interval, n.s.: not told apart from the configuration to its left)",
                    fontsize=11)
    return save_figure(figure, out_dir, "inference_time", "Inference time (paper Fig. 13)")


@dataclass(frozen=True)
class BarMeasure:
    label: str
    summary_column: str   # the bar height (a median over launches)
    launches_column: str  # the dots (each launch)
    launch_kind: str      # "first" or "warm" to keep only those launches, "" for every launch


@dataclass(frozen=True)
class PairedBarsFigure:
    """Two measures per backend side by side (solid, then hatched) for each configuration."""
    name: str
    title: str
    suptitle: str
    ylabel: str
    scale: float  # summary and launch values are divided by this
    measures: tuple[BarMeasure, BarMeasure]


LOAD_TIME_FIGURE = PairedBarsFigure(
    name="load_time", title="Model loading time (paper Fig. 14)",
    suptitle="Model loading time per configuration (bars: median, dots: each launch)",
    ylabel="model loading time (ms)", scale=1.0,
    measures=(BarMeasure("first load", "first_load_median_ms", "load_ms", "first"),
              BarMeasure("warm load (median)", "warm_load_median_ms", "load_ms", "warm")),
)

MEMORY_FIGURE = PairedBarsFigure(
    name="memory", title="Memory (paper Fig. 15)",
    suptitle="Memory of the runner process per configuration (bars: median over launches, dots: each launch)",
    ylabel="resident memory (MB)", scale=KB_PER_MB,
    measures=(BarMeasure("peak (VmHWM)", "peak_memory_median_kb", "vm_hwm_kb", ""),
              BarMeasure("steady (RSS after runs)", "steady_memory_median_kb", "rss_after_runs_kb", "")),
)


def _launch_values(launches: pd.DataFrame, measure: BarMeasure, scale: float) -> np.ndarray:
    if measure.launch_kind:
        launches = launches[launches["launch_kind"] == measure.launch_kind]
    return launches[measure.launches_column].dropna().to_numpy(dtype=float) / scale


def _draw_paired_bars(axis, spec: PairedBarsFigure, panel: pd.DataFrame, panel_launches: pd.DataFrame) -> None:
    configurations = order_configurations(panel["configuration"])
    backends = order_backends(panel["backend"])
    slots = [(backend, index) for backend in backends for index in range(len(spec.measures))]
    offsets = _slot_offsets(len(slots))
    bar_width = GROUP_WIDTH / len(slots) * 0.9
    heights = []
    for (backend, index), offset in zip(slots, offsets):
        measure = spec.measures[index]
        colour = backend_colour(backend, backends)
        for position, configuration in enumerate(configurations):
            match = panel[(panel["backend"] == backend) & (panel["configuration"] == configuration)]
            if match.empty or pd.isna(match[measure.summary_column].iloc[0]):
                continue
            height = float(match[measure.summary_column].iloc[0]) / spec.scale
            heights.append(height)
            axis.bar(position + offset, height, width=bar_width, color=colour, alpha=0.75 if index == 0 else 0.35,
                     hatch="" if index == 0 else "//", edgecolor=colour)
            launches = panel_launches[(panel_launches["backend"] == backend) & (panel_launches["configuration"] == configuration)]
            values = _launch_values(launches, measure, spec.scale)
            axis.scatter(np.full(values.size, position + offset), values, s=10, color="black", zorder=3)
    use_log_scale(axis, np.asarray(heights, dtype=float))
    _label_configurations(axis, configurations)
    handles = [Patch(color=backend_colour(backend, backends), alpha=0.75, label=backend) for backend in backends]
    handles += [Patch(facecolor="white", edgecolor="grey", hatch="" if index == 0 else "//", label=measure.label)
                for index, measure in enumerate(spec.measures)]
    axis.legend(handles=handles, fontsize=8, loc="upper right", ncol=2)


def plot_paired_bars(spec: PairedBarsFigure, launches: pd.DataFrame, summary: pd.DataFrame, contexts: list[RunContext],
                     out_dir: Path) -> FigureFiles:
    ok_launches = launches[launches["status"] == "ok"]

    def draw(axis, key: tuple, panel: pd.DataFrame) -> str:
        device, core, threads, arch = key
        panel_launches = ok_launches[(ok_launches["device"] == device) & (ok_launches["core"] == core)
                                     & (ok_launches["threads"] == threads) & (ok_launches["arch"] == arch)]
        _draw_paired_bars(axis, spec, panel, panel_launches)
        axis.set_ylabel(spec.ylabel)
        return ""

    figure = draw_panels(summary, contexts, draw)
    figure.suptitle(spec.suptitle, fontsize=11)
    return save_figure(figure, out_dir, spec.name, spec.title)


def plot_load_time(launches: pd.DataFrame, summary: pd.DataFrame, contexts: list[RunContext], out_dir: Path) -> FigureFiles:
    """Fig. 14: first load (first launch of the program in the run) beside warm loads (later launches)."""
    return plot_paired_bars(LOAD_TIME_FIGURE, launches, summary, contexts, out_dir)


def plot_memory(launches: pd.DataFrame, summary: pd.DataFrame, contexts: list[RunContext], out_dir: Path) -> FigureFiles:
    """Fig. 15: peak resident memory (VmHWM) beside steady resident memory after the timed runs."""
    return plot_paired_bars(MEMORY_FIGURE, launches, summary, contexts, out_dir)


def plot_peak_fraction(summary: pd.DataFrame, contexts: list[RunContext], out_dir: Path) -> FigureFiles | None:
    """Roofline-style: each program's achieved GFLOP/s at its median time as a share of the pinned core's measured
    peak fp32 FMA rate. None when no peak was measured."""
    measured = summary.dropna(subset=["peak_fraction"]) if "peak_fraction" in summary else summary.iloc[0:0]
    if measured.empty:
        return None

    def draw(axis, key: tuple, panel: pd.DataFrame) -> str:
        configurations = order_configurations(panel["configuration"])
        backends = order_backends(panel["backend"])
        offsets = _slot_offsets(len(backends))
        width = GROUP_WIDTH / len(backends) * 0.9
        for backend, offset in zip(backends, offsets):
            for position, configuration in enumerate(configurations):
                match = panel[(panel["backend"] == backend) & (panel["configuration"] == configuration)]
                if match.empty:
                    continue
                share = float(match["peak_fraction"].iloc[0]) * 100.0
                axis.bar(position + offset, share, width=width, color=backend_colour(backend, backends), alpha=0.75)
                axis.annotate(f"{share:.0f}%", (position + offset, share), textcoords="offset points", xytext=(0, 2),
                              ha="center", fontsize=7)
        peak = float(panel["core_peak_gflop_per_s"].iloc[0])
        axis.axhline(100.0, color="black", linewidth=0.8, linestyle="--")
        _label_configurations(axis, configurations)
        axis.set_ylim(0, 110)
        axis.set_ylabel("% of the core's peak fp32 FMA rate")
        axis.legend(handles=[Patch(color=backend_colour(backend, backends), alpha=0.75, label=backend) for backend in backends],
                    title="backend", fontsize=8, loc="upper right")
        return f"; peak {peak:.1f} GFLOP/s measured by the runner"

    figure = draw_panels(measured, contexts, draw)
    figure.suptitle("Achieved GFLOP/s (FLOPs / median inference time) as a share of the pinned core's peak", fontsize=11)
    return save_figure(figure, out_dir, "peak_fraction", "Distance from the hardware: share of the core's peak")


def plot_int8_comparison(comparison: pd.DataFrame, out_dir: Path) -> FigureFiles | None:
    """int8 against fp32 per architecture and configuration: steady inference time and peak memory side by side.
    None when nothing was measured in both."""
    if comparison.empty:
        return None
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.8), squeeze=False)
    labels = [f"{row.arch}\n{display_name(row.configuration)}" for row in comparison.itertuples()]
    positions = np.arange(len(labels))
    width = 0.38
    for axis, (fp32_column, int8_column, ylabel, scale) in zip(axes[0], (
            ("fp32_median_ms", "int8_median_ms", "median inference time (ms)", 1.0),
            ("fp32_peak_memory_kb", "int8_peak_memory_kb", "peak memory, VmHWM (MB)", KB_PER_MB))):
        axis.bar(positions - width / 2, comparison[fp32_column] / scale, width, color="#1f77b4", alpha=0.8, label="fp32")
        axis.bar(positions + width / 2, comparison[int8_column] / scale, width, color="#ff7f0e", alpha=0.8, label="int8")
        axis.set_xticks(positions)
        axis.set_xticklabels(labels, fontsize=8)
        axis.set_ylabel(ylabel)
        axis.grid(axis="y", alpha=0.3)
        axis.legend(fontsize=8)
    for position, row in zip(positions, comparison.itertuples()):
        note = f"x{row.speedup:.1f}" + ("" if row.speedup_significant is not False else " n.s.")
        axes[0][0].annotate(note, (position, max(row.fp32_median_ms, row.int8_median_ms)), textcoords="offset points",
                            xytext=(0, 3), ha="center", fontsize=7)
    figure.suptitle("int8 (xnnpack_int8) against fp32 (xnnpack), same configurations, same run "
                    "(xN: fp32 median / int8 median; n.s.: the intervals overlap)", fontsize=11)
    return save_figure(figure, out_dir, "int8_vs_fp32", "int8 against fp32")
