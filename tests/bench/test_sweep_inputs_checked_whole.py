"""Inputs checked whole: a program file whose size is not the manifest's, a resume whose results.jsonl vanished,
a serial with spaces around it, and a manifest whose programs are not a list."""

from __future__ import annotations

import json
import shlex

import pytest
from sweep_fakes import runner_result_json, write_manifest, write_script_bundle

from bench import run_device
from bench.sweep.programs import load_manifest_file, select_programs
from formats.errors import ManifestError
from formats.manifest import load_manifest

QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches",
         "--no-core-peak"]


def test_a_size_bytes_that_is_not_the_files_is_refused(tmp_path):
    manifest_path = write_manifest(tmp_path / "export", ["full"])
    data = json.loads(manifest_path.read_text())
    data["programs"][0]["size_bytes"] = 1  # sha256 still right: only the size lies (the free-space check trusts it)
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="size_bytes 1"):
        select_programs(load_manifest_file(manifest_path))


@pytest.mark.parametrize("programs", ["nope", {"id": "full"}, 7, None])
def test_programs_that_are_not_a_list_is_a_wrong_structure(tmp_path, programs):
    manifest_path = write_manifest(tmp_path / "export", ["full"])
    data = json.loads(manifest_path.read_text())
    data["programs"] = programs
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as error:
        load_manifest(manifest_path)
    assert "not a list of program entries" in str(error.value) and "program entry" not in str(error.value)


def test_a_serial_with_spaces_is_parsed_once_and_used_stripped(tmp_path):
    args = run_device.build_parser().parse_args(["--serial", " loopback ", "--manifest", str(tmp_path / "m.json")])
    assert run_device.request_from_args(args).serial_spec == "loopback"


@pytest.mark.slow
def test_a_resume_whose_results_vanished_stops_in_one_line(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "export", ["full"])
    bundle = write_script_bundle(tmp_path / "bundle", f"echo {shlex.quote(json.dumps(runner_result_json()))}\n")
    out = tmp_path / "out"
    assert run_device.main(["--serial", "loopback", "--manifest", str(manifest), "--out", str(out),
                            "--runner-bundle", str(bundle), "--launches", "1", *QUICK]) == 0
    capsys.readouterr()
    (run_folder,) = out.iterdir()
    (run_folder / "results.jsonl").unlink()
    code = run_device.main(["--serial", "loopback", "--out", str(out), "--resume", run_folder.name,
                            "--runner-bundle", str(bundle)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "missing or empty" in err[0] and "1 row(s) written" in err[0], err
    info = json.loads((run_folder / "run.json").read_text())
    assert len(info["sessions"]) == 1  # nothing was re-measured
    assert not (run_folder / "results.jsonl").exists() or (run_folder / "results.jsonl").read_text() == ""
