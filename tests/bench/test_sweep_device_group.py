"""Several devices in one command, the parts that need no device: which serials, the group file, the command lines
of each device's sweep and the group's exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run_device
from bench.adb.serials import InvalidSerial
from bench.errors import SettingsError
from bench.sweep.device_group import group_exit_code, group_serials, member_argv, options_as_argv
from formats.errors import ResultsError, UnsupportedSchema
from formats.run_folder import (
    GROUP_FILE,
    GroupMember,
    RunGroup,
    create_group_folder,
    is_group,
    read_group,
    write_group,
)


def test_serials_are_checked_and_given_once():
    assert group_serials(" 10.0.0.7:5555, emulator-5554 ,R58M123", None) == ["10.0.0.7:5555", "emulator-5554", "R58M123"]
    with pytest.raises(SettingsError, match="names emulator-5554 more than once"):
        group_serials("emulator-5554,emulator-5554", None)
    with pytest.raises(SettingsError, match="--serial all stands alone"):
        group_serials("all,emulator-5554", None)
    with pytest.raises(InvalidSerial, match="cannot read serial"):
        group_serials("emulator-5554,bad serial!", None)


def test_the_group_file_round_trips_and_a_damaged_one_is_one_clear_error(tmp_path):
    folder = create_group_folder(tmp_path)
    assert "-devices-" in folder.name and not is_group(tmp_path, folder.name)
    group = RunGroup(folder.name, "2026-12-06T00:00:00Z", ["--launches", "3"], ["--manifest", "/m.json"],
                     [GroupMember("a:1", "20261206T000000Z-a-1-abcdef", 0), GroupMember("b:2")])
    write_group(tmp_path, group)
    assert is_group(tmp_path, folder.name) and not is_group(tmp_path, "../x")
    again = read_group(tmp_path, folder.name)
    assert again == group and [m.finished for m in again.members] == [True, False]
    path = folder / GROUP_FILE
    data = json.loads(path.read_text())
    path.write_text(json.dumps(dict(data, schema_version=9)))
    with pytest.raises(UnsupportedSchema, match="schema_version 9"):
        read_group(tmp_path, folder.name)
    path.write_text(json.dumps(dict(data, devices=[{"serial": "a", "run_id": "../../etc"}])))
    with pytest.raises(ResultsError, match="is not a run id"):
        read_group(tmp_path, folder.name)
    path.write_text("{")
    with pytest.raises(ResultsError, match="unreadable"):
        read_group(tmp_path, folder.name)


def test_each_device_resumes_its_own_run_or_starts_with_the_group_settings(tmp_path):
    group = RunGroup("g", "t", ["--launches", "3"], ["--manifest", "/m.json"],
                     [GroupMember("a:1", "run-a", 130), GroupMember("b:2", None, 2)])
    (tmp_path / "run-a").mkdir()
    (tmp_path / "run-a" / "run.json").write_text("{}")
    assert member_argv(group, group.members[0], tmp_path) == \
        ["--serial", "a:1", "--out", str(tmp_path), "--resume", "run-a", "--manifest", "/m.json"]
    assert member_argv(group, group.members[1], tmp_path) == ["--serial", "b:2", "--out", str(tmp_path), "--launches", "3"]


def test_the_options_a_device_sweep_gets(tmp_path):
    parser = run_device.build_parser()
    args = parser.parse_args(["--serial", "a:1,b:2", "--manifest", "m.json", "--out", str(tmp_path), "--launches", "4",
                              "--configs", "full,conv5_1_simple", "--no-core-peak", "--adb-server", "lab:5037"])
    argv = options_as_argv(args, parser, lambda dest: dest not in {"serial", "out", "resume", "help"})
    assert argv[argv.index("--manifest") + 1] == str(Path("m.json").resolve())
    assert argv[argv.index("--launches") + 1] == "4" and argv[argv.index("--configs") + 1] == "full,conv5_1_simple"
    assert "--no-core-peak" in argv and argv[argv.index("--adb-server") + 1] == "lab:5037"
    assert "--serial" not in argv and "--out" not in argv and "--no-drop-caches" not in argv
    assert parser.parse_args(["--serial", "a:1", *argv]).launches == 4  # the child reads them back alike


def test_exit_codes_of_a_group():
    assert group_exit_code([0, 0], interrupted=False) == 0
    assert group_exit_code([0, 2], interrupted=False) == 1
    assert group_exit_code([1, 0], interrupted=False) == 1
    assert group_exit_code([2, 2], interrupted=False) == 2
    assert group_exit_code([0, 130], interrupted=True) == 130


def test_bad_settings_stop_a_group_before_any_folder_is_made(tmp_path, capsys):
    assert run_device.main(["--serial", "a:1,b:2", "--manifest", "m.json", "--out", str(tmp_path / "out"),
                            "--launches", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "launches" in err[0]
    assert run_device.main(["--serial", "a:1,b:2", "--out", str(tmp_path / "out")]) == 2
    assert "no manifest given" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
