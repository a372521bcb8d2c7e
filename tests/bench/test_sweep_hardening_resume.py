"""--resume with a damaged run.json, or with a run id that is a path, ends in one clear error line (exit 2)."""

from __future__ import annotations

import json
import shlex

import pytest
from sweep_fakes import runner_result_json, write_manifest, write_script_bundle

from bench import run_device

QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches"]


@pytest.fixture
def finished_run(tmp_path, capsys):
    """(out folder, run id, runner bundle) of a run stopped after its first program."""
    manifest = write_manifest(tmp_path / "export", ["full", "conv5_1_simple"])
    bundle = write_script_bundle(tmp_path / "bundle", f"echo {shlex.quote(json.dumps(runner_result_json()))}\n")
    out = tmp_path / "out"
    assert run_device.main(["--serial", "loopback", "--manifest", str(manifest), "--out", str(out),
                            "--runner-bundle", str(bundle), "--launches", "1", *QUICK]) == 0
    capsys.readouterr()
    (run_folder,) = out.iterdir()
    return out, run_folder.name, bundle


def resume(out, run_id, bundle, capsys) -> tuple[int, list[str]]:
    code = run_device.main(["--serial", "loopback", "--out", str(out), "--resume", run_id,
                            "--runner-bundle", str(bundle)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("damage, complaint", [
    (lambda info: info.pop("settings"), "settings is missing, expected an object"),
    (lambda info: info["settings"].update(iterations="many"), "its settings cannot be used"),
    (lambda info: info.update(core="fast"), "core is text, expected an integer"),
    (lambda info: info["manifest"].pop("sha256"), "manifest.sha256 is missing"),
    (lambda info: info.update(sessions={"0": {}}), "sessions is an object, expected a list"),
    (lambda info: info.update(device=None), "device is null, expected an object"),
])
def test_a_damaged_run_json_is_one_clear_error(finished_run, capsys, damage, complaint):
    out, run_id, bundle = finished_run
    run_json = out / run_id / "run.json"
    info = json.loads(run_json.read_text())
    damage(info)
    run_json.write_text(json.dumps(info))
    code, err = resume(out, run_id, bundle, capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"error: {run_json}: ") and complaint in err[0]
    assert "start a new run without --resume" in err[0]


def test_a_run_json_cut_short_is_one_clear_error(finished_run, capsys):
    out, run_id, bundle = finished_run
    run_json = out / run_id / "run.json"
    run_json.write_text(run_json.read_text()[:100])
    code, err = resume(out, run_id, bundle, capsys)
    assert code == 2 and len(err) == 1 and "is unreadable" in err[0] and "without --resume" in err[0], err


@pytest.mark.parametrize("run_id_of", [
    lambda out, run_id: "../..",
    lambda out, run_id: f"../{run_id}",
    lambda out, run_id: str(out / run_id),
    lambda out, run_id: ".",
])
def test_a_run_id_that_is_a_path_is_refused(finished_run, capsys, run_id_of):
    out, run_id, bundle = finished_run
    nested = out / run_id / "a" / "b"
    nested.mkdir(parents=True)  # --out below the run folder: ../.. would reach it
    (out / "sub").mkdir()
    given = run_id_of(out, run_id)
    for results_dir in (nested, out / "sub"):
        code = run_device.main(["--serial", "loopback", "--out", str(results_dir), "--resume", given,
                                "--runner-bundle", str(bundle)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert err[0] == (f"error: {given!r} is not a run id: give the name of a run folder in --out (as printed by "
                          "the sweep, e.g. 20261123T110000Z-loopback-1a2b3c), not a path")
    info = json.loads((out / run_id / "run.json").read_text())
    assert len(info["sessions"]) == 1  # nothing was resumed
