"""Distance from the hardware: each program's achieved GFLOP/s over the pinned core's measured peak, as a column
and a figure, when the rows' device facts carry the runner's core peak; nothing is invented when they do not."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.pipeline import analyse

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"
PEAK_GFLOPS = 80.0
HANDMADE_CORE = 4


def with_core_peak(tmp_path: Path) -> Path:
    """The hand-made paper-like run, its device facts upgraded to version 2 with a measured peak of core 4."""
    folder = tmp_path / "paper_like_peak"
    shutil.copytree(DATA / "paper_like", folder)
    peak = {"schema": "splitbench.core_peak", "schema_version": 1, "status": "ok", "core": HANDMADE_CORE,
            "peak_gflops": PEAK_GFLOPS}
    rows = []
    for line in (folder / "results.jsonl").read_text().splitlines():
        row = json.loads(line)
        row["device"].update(schema_version=2, loopback=False, emulator=False, cpu_emulation=None, core_peaks=[peak])
        rows.append(json.dumps(row))
    (folder / "results.jsonl").write_text("\n".join(rows) + "\n")
    (folder / "run.json").unlink()  # the rows carry the device facts
    return folder


@pytest.mark.slow
def test_share_of_the_core_peak_is_a_column_and_a_figure(tmp_path):
    outputs = analyse([with_core_peak(tmp_path)], tmp_path / "report")
    summary = pd.read_csv(outputs.table_paths["summary"])
    full = summary[(summary["configuration"] == "full") & (summary["backend"] == "xnnpack")].iloc[0]
    # full.xnnpack: 30 GFLOP in a median of 1005.5 ms (samples 1000..1011) -> 29.84 GFLOP/s, 37.3 % of 80 GFLOP/s
    assert full["achieved_gflop_per_s"] == pytest.approx(30.0 / 1.0055, rel=1e-6)
    assert full["peak_fraction"] == pytest.approx(30.0 / 1.0055 / PEAK_GFLOPS, rel=1e-6)
    assert (outputs.out_dir / "figures" / "peak_fraction.png").stat().st_size > 10_000
    assert "% of peak" in outputs.report_path.read_text()


@pytest.mark.slow
def test_without_a_measured_peak_there_is_no_share_and_no_figure(tmp_path):
    outputs = analyse([DATA / "paper_like"], tmp_path / "report")
    summary = pd.read_csv(outputs.table_paths["summary"])
    assert summary["peak_fraction"].isna().all()
    assert not (outputs.out_dir / "figures" / "peak_fraction.png").exists()
