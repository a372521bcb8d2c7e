"""Figures of the cross-device comparison: one per metric, the devices side by side for every configuration
(median bar, 95 % interval, "n.s." where a device cannot be told apart from the first one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.configurations import display_name
from analysis.figure_files import FigureFiles, panel_axes, save_figure, use_log_scale
from analysis.figures import FALLBACK_COLOURS, GROUP_WIDTH
from formats.paper import order_configurations

DEVICE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", *FALLBACK_COLOURS]


@dataclass(frozen=True)
class CrossDeviceMetric:
    name: str
    title: str
    unit: str
    column: str  # a launches column (unused for samples)
    from_samples: bool = False
    launch_kind: str | None = None
    scale: float = 1.0


CROSS_DEVICE_METRICS: tuple[CrossDeviceMetric, ...] = (
    CrossDeviceMetric("inference_ms", "Inference time per device", "ms", "time_ms", from_samples=True),
    CrossDeviceMetric("warm_load_ms", "Warm model load time per device", "ms", "load_ms", launch_kind="warm"),
    CrossDeviceMetric("peak_memory_mb", "Peak memory (VmHWM) per device", "MB", "vm_hwm_kb", scale=1 / 1024),
)


def plot_cross_device_metric(metrics: pd.DataFrame, metric: CrossDeviceMetric, out_dir: Path) -> FigureFiles | None:
    """One panel per architecture and backend; None when nothing was measured for the metric."""
    table = metrics[metrics["metric"] == metric.name] if not metrics.empty else metrics
    if table.empty:
        return None
    panels = [(key, panel) for key, panel in table.groupby(["arch", "format", "backend"], sort=True)]
    figure, axes = panel_axes(len(panels))
    devices = list(dict.fromkeys(table["device"]))
    width = GROUP_WIDTH / len(devices)
    for axis, ((arch, file_format, backend), panel) in zip(axes, panels, strict=True):
        configurations = order_configurations(set(panel["configuration"]))
        for index, device in enumerate(devices):
            rows = panel[panel["device"] == device].set_index("configuration")
            xs = np.arange(len(configurations)) + (index - (len(devices) - 1) / 2) * width
            medians = np.array([rows.at[c, "median"] if c in rows.index else np.nan for c in configurations])
            low = np.array([rows.at[c, "ci_low"] if c in rows.index else np.nan for c in configurations])
            high = np.array([rows.at[c, "ci_high"] if c in rows.index else np.nan for c in configurations])
            axis.bar(xs, medians, width * 0.9, color=DEVICE_COLOURS[index % len(DEVICE_COLOURS)], label=device)
            axis.errorbar(xs, medians, yerr=[medians - low, high - medians], fmt="none", ecolor="black",
                          elinewidth=1.1, capsize=2)
            for x, configuration in zip(xs, configurations, strict=True):
                if configuration in rows.index and rows.at[configuration, "vs_first_device_significant"] is False:
                    axis.annotate("n.s.", (x, rows.at[configuration, "ci_high"]), textcoords="offset points",
                                  xytext=(0, 3), ha="center", fontsize=7)
        use_log_scale(axis, panel["median"].to_numpy(dtype=float))
        axis.set_xticks(range(len(configurations)))
        axis.set_xticklabels([display_name(c) for c in configurations], fontsize=9)
        axis.set_ylabel(f"{metric.title.split(' per ')[0]} ({metric.unit})")
        axis.set_title(f"{arch}, {file_format or '?'} / {backend}: median and 95 % interval per device", fontsize=10)
        axis.grid(axis="y", alpha=0.3)
        axis.legend(fontsize=8)
    return save_figure(figure, out_dir, f"cross_device_{metric.name}", metric.title)
