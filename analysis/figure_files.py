"""What every figure shares: a column (or grid) of panels, and saving it as PNG and SVG (FigureFiles)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # titles carry a device's own text: drawn as written, never as mathtext
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

FIGURE_FORMATS = ("png", "svg")
LOG_SCALE_SPREAD = 20.0  # use a log axis when the largest value is this many times the smallest


@dataclass(frozen=True)
class FigureFiles:
    name: str
    title: str
    paths: tuple[Path, ...]


def panel_axes(count: int, columns: int = 1, panel_size: tuple[float, float] = (11, 4.8)):
    """A figure of `count` panels, `columns` to a row (the grid's unused places hidden), and its panels' axes."""
    rows = max(1, math.ceil(count / columns))
    width, height = panel_size
    figure, grid = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    axes = [grid[index // columns][index % columns] for index in range(rows * columns)]
    for axis in axes[count:]:
        axis.set_visible(False)
    return figure, axes[:count]


def use_log_scale(axis, values: np.ndarray) -> None:
    """A log y axis when the panel's positive values spread wider than LOG_SCALE_SPREAD."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / positive.min() > LOG_SCALE_SPREAD:
        axis.set_yscale("log")


def save_figure(figure, out_dir: Path, name: str, title: str) -> FigureFiles:
    """`figure` as <name>.png and <name>.svg in `out_dir` (closed afterwards)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    paths = []
    for file_format in FIGURE_FORMATS:
        path = out_dir / f"{name}.{file_format}"
        figure.savefig(path, dpi=110)
        paths.append(path)
    plt.close(figure)
    return FigureFiles(name, title, tuple(paths))
