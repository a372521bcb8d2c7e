"""Programs that keep their weights in the export folder's data file (manifest version 4): the sweep checks the
data file like a program, pushes it once for every program that needs it, passes it to the runner (--data), and
says clearly when a runner build cannot load one. The device is a sandbox running its shell on this host."""

from __future__ import annotations

import json
import shlex

import pytest
from sweep_fakes import HostSandboxConnection, runner_result_json, sha256_of, write_manifest, write_script_bundle

from bench.adb.reconnect import DeviceLink
from bench.sweep.deploy import DeployReport, DeviceLayout, deploy, deploy_items
from bench.sweep.launch import LaunchRequest, run_launch, runner_args
from bench.sweep.programs import load_manifest_file, select_programs
from bench.sweep.run import model_deploy_failures
from bench.sweep.runners import load_runner_bundle
from bench.sweep.runtime_runners import data_file_unsupported
from bench.sweep.settings import SweepConfig
from formats.errors import ManifestError

LAYOUT = DeviceLayout()
DATA_FILE = "weights.ptd"


def write_shared_weights_manifest(folder, configurations=("full", "conv5_1_simple"), data_bytes=b"w" * 300):
    """A version 4 manifest whose full and client programs keep their weights in one data file."""
    path = write_manifest(folder, list(configurations))
    data = json.loads(path.read_text())
    (folder / DATA_FILE).write_bytes(data_bytes)
    data["schema_version"] = 4
    for program in data["programs"]:
        program.update(arch="vgg16", quantization=None, accuracy=None, data_file=None, data_keys=None)
        if program["role"] != "cloud":
            program.update(data_file=DATA_FILE, data_keys=["aa" * 32])
    data["data_files"] = [{"file": DATA_FILE, "sha256": sha256_of(folder / DATA_FILE), "size_bytes": len(data_bytes)}]
    path.write_text(json.dumps(data))
    return path


def runner_bundle(tmp_path, script: str):
    return load_runner_bundle(write_script_bundle(tmp_path / "bundle", script))


@pytest.fixture
def shared(tmp_path):
    bundle = runner_bundle(tmp_path, f"echo {shlex.quote(json.dumps(runner_result_json()))}\n")
    programs = select_programs(load_manifest_file(write_shared_weights_manifest(tmp_path / "export")))
    return bundle, programs, HostSandboxConnection(tmp_path / "sandbox")


def test_the_data_file_is_pushed_once_for_every_program_and_again_only_when_it_differs(shared):
    bundle, programs, connection = shared
    items = deploy_items(bundle, programs, LAYOUT)
    data_items = [item for item in items if item.device_path.endswith("/" + DATA_FILE)]
    assert len(data_items) == 1 and data_items[0].size_bytes == 300
    assert {LAYOUT.data_path(p) for p in programs} == {data_items[0].device_path}
    assert deploy(connection, items, LAYOUT).files_pushed == len(items) == 5  # runner, lib, 2 models, data
    assert connection.host_path(data_items[0].device_path).read_bytes() == b"w" * 300
    connection.host_path(data_items[0].device_path).write_bytes(b"stale weights")
    again = deploy(connection, items, LAYOUT)
    assert again.files_pushed == 1 and connection.pushed[-1] == data_items[0].device_path


def test_the_runner_is_given_the_data_file_on_the_device(shared, tmp_path):
    _, programs, connection = shared
    bundle = runner_bundle(tmp_path / "echo", 'printf \'{"schema": "splitbench.runner_result", "status": "ok", '
                                              '"argv": "%s"}\\n\' "$*"\n')
    deploy(connection, deploy_items(bundle, programs, LAYOUT), LAYOUT)
    config = SweepConfig(iterations=3, warmup=1)
    request = LaunchRequest(programs[1], core=0, drop_page_cache=False)
    argv = runner_args(LAYOUT, request, config)
    assert argv[argv.index("--data") + 1] == f"{LAYOUT.models_dir}/{DATA_FILE}"
    outcome = run_launch(connection, LAYOUT, request, config)
    assert outcome.status == "ok"
    assert outcome.runner["argv"].endswith(f"/splitbench/models/{DATA_FILE}")  # the sandbox's own root
    assert "--data " in outcome.runner["argv"]


def test_a_program_with_its_weights_inside_gets_no_data_option(tmp_path):
    programs = select_programs(load_manifest_file(write_manifest(tmp_path / "export", ["full"])))
    assert LAYOUT.data_path(programs[0]) is None
    assert "--data" not in runner_args(LAYOUT, LaunchRequest(programs[0], core=0, drop_page_cache=False),
                                       SweepConfig())


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_bytes(b"v" * 300), "has sha256"),
    (lambda path: path.write_bytes(b"short"), "has 5 bytes, not the manifest's size_bytes 300"),
    (lambda path: path.unlink(), "is missing; re-run the export"),
])
def test_a_changed_or_missing_data_file_is_refused_before_the_device_is_touched(tmp_path, damage, message):
    manifest_path = write_shared_weights_manifest(tmp_path / "export")
    damage(tmp_path / "export" / DATA_FILE)
    with pytest.raises(ManifestError, match=message):
        select_programs(load_manifest_file(manifest_path))


def test_a_data_file_that_cannot_be_pushed_fails_every_program_that_needs_it(shared):
    bundle, programs, _ = shared
    data_path = LAYOUT.data_path(programs[0])
    report = DeployReport(failures={data_path: "the device is full"})
    assert model_deploy_failures(programs, report, LAYOUT) == {p.program_id: "the device is full" for p in programs}


@pytest.mark.parametrize("capabilities, refused", [({"data_files": True}, False), ({}, True)])
def test_a_runner_build_without_data_files_makes_those_programs_unsupported(tmp_path, capabilities, refused):
    version = {"schema": "splitbench.runner_capabilities", "schema_version": 1, **capabilities}
    bundle = runner_bundle(tmp_path, f"echo {shlex.quote(json.dumps(version))}\n")
    programs = select_programs(load_manifest_file(write_shared_weights_manifest(tmp_path / "export")))
    connection = HostSandboxConnection(tmp_path / "sandbox")
    report = deploy(connection, deploy_items(bundle, programs, LAYOUT), LAYOUT)
    unsupported = data_file_unsupported(DeviceLink(lambda: connection, attempts=0), "run", bundle, programs, report,
                                        LAYOUT)
    if not refused:
        assert unsupported == {}
        return
    assert set(unsupported) == {p.program_id for p in programs}
    message = unsupported[programs[0].program_id]
    assert "cannot load a data file" in message and "--device-weights embedded" in message
