"""`python -m analysis` on a row whose field has the wrong type names the row and the field in one line."""

import json
import shutil
from pathlib import Path

import pytest

from analysis.__main__ import main

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"


def damage_second_row(folder: Path, damage) -> None:
    lines = (folder / "results.jsonl").read_text().splitlines()
    row = json.loads(lines[1])
    damage(row)
    lines[1] = json.dumps(row)
    (folder / "results.jsonl").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("damage, field", [
    (lambda row: row["runner"]["memory"].update(vm_hwm_kb="lots"), "runner.memory.vm_hwm_kb"),
    (lambda row: row.update(program_id=7), "program_id"),
    (lambda row: row.update(core="4"), "core"),
    (lambda row: row["env_after"]["temperatures_c"].update({"zone0:cpu": "hot"}), "env_after.temperatures_c"),
    (lambda row: row["device"].update(thermal_zones=[{"zone": 0, "type": "cpu", "temp_c": "hot"}]), "thermal_zones"),
    (lambda row: row["device"].update(model=["Pixel"]), "model"),
    (lambda row: row["device"].update(core_peaks=["fast"]), "core_peaks"),
    (lambda row: row["manifest_entry"].update(flops="many"), "manifest_entry.flops"),
    (lambda row: row["manifest_entry"].update(format=[]), "manifest_entry.format"),  # found by the fuzzer
    (lambda row: row.update(launch_index=True), "launch_index"),
])
def test_a_field_of_the_wrong_type_is_one_line_naming_row_and_field(tmp_path, capsys, damage, field):
    folder = tmp_path / "run"
    shutil.copytree(DATA / "paper_like", folder)
    damage_second_row(folder, damage)
    assert main([str(folder), "--out", str(tmp_path / "r")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "results.jsonl:2" in lines[0] and field in lines[0], lines[0]
