"""`python -m analysis` on a row whose timing holds something other than a finite number: one clear error
line naming the file and line, exit code 2, no traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "analysis"


@pytest.mark.parametrize("bad_value, shown", [("12.5ms", "'12.5ms'"), (None, "None"), (True, "True"),
                                              (float("nan"), "nan")])
@pytest.mark.slow
def test_a_non_numeric_timing_is_one_error_line_without_traceback(tmp_path, bad_value, shown):
    run = tmp_path / "run"
    shutil.copytree(DATA / "paper_like", run)
    lines = (run / "results.jsonl").read_text().splitlines()
    row = json.loads(lines[3])
    row["runner"]["timing"]["inference_ms"][1] = bad_value
    lines[3] = json.dumps(row)
    (run / "results.jsonl").write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "analysis", str(run), "--out", str(tmp_path / "report")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    err = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(err) == 1, done.stderr
    assert err[0] == (f"analysis: error: {run / 'results.jsonl'}:4: runner timing inference_ms holds {shown}, "
                      "not a finite number; the row is damaged: remove it or re-run that program")
    assert "Traceback" not in done.stderr and not (tmp_path / "report" / "report.md").exists()
