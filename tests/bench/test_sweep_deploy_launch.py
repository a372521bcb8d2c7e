"""Deploy (push only what differs) and single launches, through a connection that runs the
device's shell commands on this host in a sandbox."""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil

import pytest
from sweep_fakes import HostSandboxConnection, runner_result_json, write_manifest, write_script_bundle

from bench.device.facts import collect_device_facts
from bench.errors import InsufficientStorage, TransferFailed
from bench.sweep.deploy import DeviceLayout, check_free_space, deploy, deploy_items
from bench.sweep.launch import LaunchRequest, run_launch
from bench.sweep.programs import load_manifest_file, select_programs
from bench.sweep.runners import load_runner_bundle
from bench.sweep.settings import SweepConfig

LAYOUT = DeviceLayout()


@pytest.fixture
def setup(tmp_path):
    bundle = load_runner_bundle(write_script_bundle(tmp_path / "bundle", f"echo {shlex.quote(json.dumps(runner_result_json()))}\n"))
    programs = select_programs(load_manifest_file(write_manifest(tmp_path / "export", ["full", "conv5_1_simple"])))
    return bundle, programs, HostSandboxConnection(tmp_path / "sandbox")


def test_deploy_pushes_only_what_differs(setup):
    bundle, programs, connection = setup
    items = deploy_items(bundle, programs, LAYOUT)
    first = deploy(connection, items, LAYOUT)
    assert first.files_pushed == len(items) == 4 and not first.failures
    runner = connection.host_path(LAYOUT.runner_path)
    assert runner.stat().st_mode & 0o777 == 0o755
    assert deploy(connection, items, LAYOUT).files_pushed == 0  # same hashes: nothing moves
    model = connection.host_path(LAYOUT.model_path(programs[1]))
    model.write_bytes(b"changed on the device")
    again = deploy(connection, items, LAYOUT)
    assert again.files_pushed == 1 and again.bytes_pushed == programs[1].size_bytes
    assert connection.pushed[-1] == LAYOUT.model_path(programs[1])


def test_a_model_that_cannot_be_pushed_is_recorded_but_a_runner_that_cannot_is_fatal(setup):
    bundle, programs, connection = setup
    connection.quota_bytes = 5000  # the runner files and the 64-byte model fit, a 6000-byte one does not
    items = deploy_items(bundle, programs, LAYOUT)
    items[-1].local_path.write_bytes(b"x" * 6000)
    big = dataclasses.replace(items[-1], size_bytes=6000)
    items[-1] = big
    report = deploy(connection, items, LAYOUT)
    assert list(report.failures) == [big.device_path]
    connection.quota_bytes = 10
    connection.host_path(LAYOUT.runner_path).unlink()
    with pytest.raises(TransferFailed, match="could not put the runner file"):
        deploy(connection, items, LAYOUT)


def test_free_space_is_checked_before_pushing(setup):
    bundle, programs, _ = setup
    items = deploy_items(bundle, programs, LAYOUT)
    with pytest.raises(InsufficientStorage, match=r"needs 8\.\d MB free .* has 1\.0 MB"):
        check_free_space(items, 1_000_000)
    check_free_space(items, None)  # unknown free space: try the push
    check_free_space([], 0)  # nothing to push


def test_device_facts_script_runs_in_a_posix_shell(tmp_path):
    facts = collect_device_facts(HostSandboxConnection(tmp_path), "host")
    assert facts.platform == "linux" and facts.abi is not None
    assert facts.online_core_indices and facts.storage_free_bytes > 0


def launch_with(tmp_path, runner_script: str, **config):
    bundle = load_runner_bundle(write_script_bundle(tmp_path / "bundle", runner_script))
    programs = select_programs(load_manifest_file(write_manifest(tmp_path / "export", ["full"])))
    connection = HostSandboxConnection(tmp_path / "sandbox")
    deploy(connection, deploy_items(bundle, programs, LAYOUT), LAYOUT)
    settings = SweepConfig(iterations=7, warmup=2, max_time_ms=500, **config)
    return run_launch(connection, LAYOUT, LaunchRequest(programs[0], core=0, drop_page_cache=False), settings)


def test_launch_passes_the_options_and_keeps_stdout_and_stderr_apart(tmp_path):
    outcome = launch_with(tmp_path, (
        'echo "warning: slow disk" >&2\n'
        'printf \'{"schema": "splitbench.runner_result", "status": "ok", "argv": "%s"}\\n\' "$*"\n'))
    assert outcome.status == "ok" and outcome.runner_exit_code == 0
    assert outcome.runner_stderr.strip() == "warning: slow disk"
    argv = outcome.runner["argv"]
    assert "--iterations 7 --warmup 2 --core 0 --threads 1 --max-time-ms 500" in argv
    assert argv.startswith("--model ") and argv.split()[1].endswith("/splitbench/models/full.xnnpack.pte")


@pytest.mark.slow
def test_a_launch_past_its_time_limit_is_a_timeout_row(tmp_path):
    outcome = launch_with(tmp_path, "sleep 30\n", launch_timeout_s=1)
    assert outcome.status == "timeout" and outcome.runner is None
    assert outcome.wall_s < 15


def test_running_out_of_space_during_a_push_stops_the_deploy(setup):
    bundle, programs, connection = setup

    def full_disk(local, device_path, mode=0o644):
        raise InsufficientStorage(f"push of {local} failed: the device is full; free space and retry")

    connection.push = full_disk
    with pytest.raises(InsufficientStorage, match="the device is full"):
        deploy(connection, deploy_items(bundle, programs, LAYOUT), LAYOUT)


def test_a_device_without_sha256sum_gets_every_file_pushed(setup, tmp_path):
    bundle, programs, connection = setup
    bin_dir = tmp_path / "bin"  # a PATH where sha256sum does not exist
    bin_dir.mkdir()
    for tool in ("sh", "mkdir", "df", "cut", "chmod", "echo"):
        target = shutil.which(tool)
        if target:
            (bin_dir / tool).symlink_to(target)
    items = deploy_items(bundle, programs, LAYOUT)
    deploy(connection, items, LAYOUT)
    original_shell = connection.shell
    connection.shell = lambda argv, timeout_s=60: original_shell(
        ["env", f"PATH={bin_dir}", *argv], timeout_s=timeout_s)
    report = deploy(connection, items, LAYOUT)
    assert report.files_pushed == len(items) and not report.failures
