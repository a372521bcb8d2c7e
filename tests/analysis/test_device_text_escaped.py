"""A device's own text (model, manufacturer, governor...) reaches terminals, report.md and figure titles with its
control characters escaped: an escape sequence cannot retitle or recolour a terminal, forge a line, break a
Markdown table or a figure's title."""

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis.markdown import format_value
from analysis.pipeline import analyse
from bench.sweep.progress import ProgressEvent, format_progress
from formats.display_text import shown, shown_in_figure, shown_in_markdown

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"
HOSTILE_MODEL = "Evil\x1b]0;pwned\x07\x1b[31mPhone\nforged line $\\frac{a}{$ | cell"


def test_shown_escapes_every_control_character_and_keeps_the_text_readable():
    text = shown(HOSTILE_MODEL)
    assert all(ord(char) >= 0x20 and ord(char) != 0x7F for char in text)
    assert text.startswith("Evil\\x1b]0;pwned\\x07\\x1b[31mPhone\\x0aforged line")
    assert shown("a\u202eb\u200bc\x85") == "a\\u202eb\\u200bc\\x85"  # bidi override, zero width, C1 NEL
    assert shown("back\\x1b") == "back\\\\x1b"  # a backslash cannot pass for our escape
    assert shown("M" * 500).endswith("...") and len(shown("M" * 500)) == 203


def test_markdown_and_figure_variants():
    assert "\\|" in shown_in_markdown(HOSTILE_MODEL) and "\\[" in shown_in_markdown(HOSTILE_MODEL)
    assert "\\$" in shown_in_figure(HOSTILE_MODEL)
    cell = format_value(HOSTILE_MODEL)
    assert "\x1b" not in cell and "\x07" not in cell and re.search(r"(?<!\\)\|", cell) is None


def test_progress_lines_escape_the_program_and_the_message():
    event = ProgressEvent(phase="reconnect", program_id="p\x1b[2J", program_number=1, program_count=1,
                          launch_index=0, launches=1, done_launches=0, total_launches=1, elapsed_s=1.0,
                          remaining_s=None, message=HOSTILE_MODEL)
    for line in (format_progress(event), format_progress(ProgressEvent(**{**event.__dict__, "phase": "launch"}))):
        assert "\x1b" not in line and "\n" not in line and "\x07" not in line


@pytest.mark.slow
def test_report_and_figures_escape_a_hostile_model_name(tmp_path):
    folder = tmp_path / "hostile_run"
    shutil.copytree(DATA / "paper_like", folder)
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    for row in rows:
        row["device"].update(model=HOSTILE_MODEL, manufacturer="Acme\x1b[0m")
        for core in row["device"].get("cores", []):
            core["governor"] = "perf\x1b[1m"
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (folder / "run.json").unlink()
    outputs = analyse([folder], tmp_path / "out")
    report = outputs.report_path.read_text()
    assert "\x1b" not in report and "\x07" not in report
    assert "Evil\\\\x1b" in report or "Evil\\x1b" in report
    for svg in (outputs.out_dir / "figures").glob("*.svg"):
        text = svg.read_text()
        assert "\x1b" not in text and "\x07" not in text
    assert "x1b]0;pwned" in (outputs.out_dir / "figures" / "inference_time.svg").read_text()
