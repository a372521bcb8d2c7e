"""The report's trained-network section from a trained_study.json: per split bytes, device time and memory from
the sweep's rows, int8 agreement trained vs random, the agreement figure and the top-5 labels in words; and the
study file's schema checks."""

from __future__ import annotations

import json

import pytest

from analysis.trained_network import SECTION_FILE, main, split_rows
from formats.errors import FormatError
from formats.trained_study import TrainedStudy, read_trained_study, write_trained_study


def agreement(top1: float, top5: float) -> dict:
    return {"count": 300, "top1_agreement": top1, "top5_overlap": top5}


def make_study(tmp_path, int8_trained=None) -> TrainedStudy:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"programs": [
        {"id": "full.xnnpack", "output_size_bytes": 4000},
        {"id": "_blocks.9_simple.xnnpack", "output_size_bytes": 62720}]}))
    run = tmp_path / "run"
    run.mkdir()
    rows = [{"status": "ok", "program_id": "_blocks.9_simple.xnnpack",
             "runner": {"timing": {"inference_ms": [10.0, 12.0, 11.0]}, "memory": {"vm_hwm_kb": 20480}}},
            {"status": "ok", "program_id": "_blocks.9_simple.xnnpack_int8",
             "runner": {"timing": {"inference_ms": [4.0, 5.0]}, "memory": {"vm_hwm_kb": 10240}}}]
    (run / "results.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n{\"unfinished")
    photo = {"photo": "chelsea", "program_id": "_blocks.9_simple.xnnpack", "configuration": "_blocks.9_simple",
             "backend": "xnnpack", "remainder_id": "_blocks.9_simple.cloud.xnnpack", "status": "ok",
             "device_output_bytes": 62720, "top5": [285, 281, 282, 287, 728],
             "top5_labels": ["Egyptian cat", "tabby", "tiger cat", "lynx", "plastic bag"],
             "reference_top5": [285, 281, 282, 287, 728], "top1_equal": True, "top5_overlap": 1.0}
    return TrainedStudy(model="export.trained:efficientnet_lite0", twin="export.trained:efficientnet_lite0_random",
                        serial="loopback", splits=["_blocks.9"], manifest=str(manifest), twin_manifest=str(manifest),
                        run_folder=str(run), evaluation_photos=["chelsea"], crops=300, crops_seed=1,
                        int8_trained=int8_trained or {"full": agreement(0.9, 0.8), "_blocks.9": agreement(0.95, 0.9)},
                        int8_twin={"full": agreement(0.4, 0.3), "_blocks.9": agreement(0.5, 0.35)},
                        photos=[photo], export_s=10.0, wall_s=60.0)


@pytest.mark.slow  # draws the figure
def test_the_section_has_bytes_device_figures_agreement_and_labels(tmp_path):
    study = make_study(tmp_path)
    write_trained_study(tmp_path / "trained_study.json", study)
    assert read_trained_study(tmp_path / "trained_study.json") == study
    rows = split_rows(study)
    assert [row.configuration for row in rows] == ["full", "_blocks.9"]
    split = rows[1]
    assert split.bytes_sent == 62720 and split.client_ms == 11.0 and split.client_int8_ms == 4.5
    assert split.peak_memory_mb == 20.0 and (split.int8_top1, split.twin_top1) == (0.95, 0.5)
    assert main([str(tmp_path / "trained_study.json"), "--out", str(tmp_path / "report")]) == 0
    text = (tmp_path / "report" / SECTION_FILE).read_text()
    assert "## Trained network" in text and "Egyptian cat, tabby, tiger cat" in text
    assert "| _blocks.9 | 62720 | 11.00 | 4.50 | 20.0 | 0.950 | 0.900 | 0.500 | 0.350 |" in text
    assert (tmp_path / "report" / "trained_int8_agreement.png").stat().st_size > 1000


def test_a_study_with_an_agreement_outside_0_1_is_refused(tmp_path):
    with pytest.raises(FormatError, match="top1_agreement must be within 0..1"):
        make_study(tmp_path, {"full": agreement(1.5, 0.8)})


def test_a_missing_study_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "none.json"), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.slow  # a whole report
def test_python_m_analysis_adds_the_section_when_the_run_folder_holds_the_study(tmp_path):
    import shutil
    from pathlib import Path

    from analysis.pipeline import analyse

    run = tmp_path / "run_with_study"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "analysis" / "paper_like", run)
    plain = analyse([run], tmp_path / "plain").report_path.read_text()
    assert "## Trained network" not in plain
    write_trained_study(run / "trained_study.json", make_study(tmp_path))
    report = analyse([run], tmp_path / "report").report_path.read_text()
    assert "## Trained network" in report and "Egyptian cat, tabby, tiger cat" in report
    assert "figures/trained_int8_agreement.png" in report
    assert (tmp_path / "report" / "figures" / "trained_int8_agreement.png").stat().st_size > 1000
