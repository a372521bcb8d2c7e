"""The split study's figures: stacked end-to-end latency per configuration (one panel per network profile),
bytes sent per configuration (log scale, the input image and the reduced features marked) and device memory."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.figure_files import FigureFiles, panel_axes, save_figure  # noqa: E402
from analysis.split_decision import CLOUD_ONLY_JPEG, CLOUD_ONLY_RAW, PAPER_MARK, SplitStudy  # noqa: E402

PART_COLOURS = {"device_ms": "#4C72B0", "transfer_ms": "#DD8452", "cloud_ms": "#55A868"}
PART_LABELS = {"device_ms": "device compute", "transfer_ms": "transfer (profile formula)",
               "cloud_ms": "cloud compute (host, measured)"}


def _labels(candidates: pd.DataFrame) -> list[str]:
    return [name + (PAPER_MARK if paper else "") for name, paper in zip(candidates["configuration"], candidates["paper"])]


def plot_split_latency(study: SplitStudy, out_dir: Path) -> FigureFiles:
    profiles = study.profiles
    figure, axes = panel_axes(len(profiles), columns=2 if len(profiles) > 1 else 1, panel_size=(7.5, 4.2))
    labels = _labels(study.candidates)
    for index, (profile, axis) in enumerate(zip(profiles, axes)):
        table = study.latency[(study.latency["profile"] == profile.name) & (study.latency["encoding"] == "float32")]
        table = table.set_index("configuration").loc[list(study.candidates["configuration"])]
        bottom = [0.0] * len(table)
        for part, colour in PART_COLOURS.items():
            values = list(table[part])
            axis.bar(range(len(table)), values, bottom=bottom, color=colour, label=PART_LABELS[part])
            bottom = [b + v for b, v in zip(bottom, values)]
        # log axis: the first splits' minutes and the decision region's milliseconds both stay readable
        axis.set_yscale("log")
        axis.set_ylim(max(min(bottom) * 0.5, 1e-3), max(bottom) * 2)
        best = min(range(len(bottom)), key=bottom.__getitem__)
        axis.annotate("best", (best, bottom[best]), ha="center", va="bottom", fontsize=8)
        kind = "measured" if profile.measured else "formula"
        axis.set_title(f"{profile.name} ({profile.uplink_mbit_s:.3g} Mbit/s up, {profile.rtt_ms:.3g} ms RTT; {kind})",
                       fontsize=9)
        axis.set_xticks(range(len(labels)), labels, rotation=70, fontsize=7)
        axis.set_ylabel("end-to-end latency (ms, log scale)")
        if index == 0:
            axis.legend(fontsize=7)
    figure.suptitle("End-to-end latency per configuration (float32 features; † = the paper's split points)",
                    fontsize=10)
    return save_figure(figure, out_dir, "split_latency", "End-to-end latency per split point and network profile")


def plot_split_bytes(study: SplitStudy, out_dir: Path) -> FigureFiles:
    candidates = study.candidates[study.candidates["kind"] == "split"]
    baseline = study.candidates.set_index("configuration")
    labels = _labels(candidates)
    figure, axis = plt.subplots(figsize=(11, 4.5))
    width = 0.27
    x = range(len(candidates))
    for offset, (encoding, colour) in enumerate((("float32", "#4C72B0"), ("float16", "#8172B2"), ("int8", "#CCB974"))):
        axis.bar([i + (offset - 1) * width for i in x], candidates[f"bytes_{encoding}"], width, color=colour,
                 label=encoding)
    for i, reduced in zip(x, candidates["reduced"]):
        if reduced:
            axis.annotate("PCA", (i, candidates.iloc[i]["bytes_float32"]), ha="center", va="bottom", fontsize=7)
    for name, style, text in ((CLOUD_ONLY_RAW, "--", "input image, raw float32"),
                              (CLOUD_ONLY_JPEG, ":", "input image, JPEG")):
        if name in baseline.index:
            axis.axhline(baseline.loc[name, "bytes_float32"], color="black", linestyle=style,
                         label=f"{text} ({int(baseline.loc[name, 'bytes_float32'])} B)")
    axis.set_yscale("log")
    axis.set_ylabel("bytes sent to the cloud")
    axis.set_xticks(list(x), labels, rotation=70, fontsize=7)
    axis.legend(fontsize=7)
    axis.set_title("Bytes that leave the phone per split (PCA = reduced features; † = the paper's split points)",
                   fontsize=10)
    return save_figure(figure, out_dir, "split_bytes", "Bytes sent to the cloud per split point")


def plot_split_memory(study: SplitStudy, out_dir: Path) -> FigureFiles:
    candidates = study.candidates[study.candidates["kind"] != "cloud only"]
    labels = _labels(candidates)
    figure, axis = plt.subplots(figsize=(11, 4.2))
    x = range(len(candidates))
    axis.bar([i - 0.2 for i in x], candidates["peak_memory_kb"] / 1024, 0.4, label="peak (VmHWM)", color="#C44E52")
    axis.bar([i + 0.2 for i in x], candidates["steady_memory_kb"] / 1024, 0.4, label="steady (RSS after runs)",
             color="#8C8C8C")
    axis.set_ylabel("device memory (MB)")
    axis.set_xticks(list(x), labels, rotation=70, fontsize=7)
    axis.legend(fontsize=7)
    axis.set_title("Device memory per split point (the cloud-only baseline loads no model)", fontsize=10)
    return save_figure(figure, out_dir, "split_memory", "Device memory per split point")


def plot_split_study(study: SplitStudy, out_dir: Path) -> list[FigureFiles]:
    return [plot_split_latency(study, out_dir), plot_split_bytes(study, out_dir), plot_split_memory(study, out_dir)]
