"""The runner choice per program: .pte with the plain runner, .ptl with the TorchScript Lite one
and the manifest's input shape; without a usable Lite runner the .ptl programs give
"unsupported" rows. Script runners on a host-sandbox connection (the real runners are
exercised on the loopback device in test_run_device_lite_loopback.py)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from sweep_fakes import HostSandboxConnection, runner_result_json, sha256_of, write_manifest, write_script_bundle
from test_sweep_units import linux_facts

from bench.adb.reconnect import DeviceLink
from bench.errors import UnsupportedDevice
from bench.sweep.deploy import DeviceLayout
from bench.sweep.launch import LaunchRequest, runner_args
from bench.sweep.programs import load_manifest_file, select_programs
from bench.sweep.run import RunRequest, execute_run, open_run
from bench.sweep.runners import load_runner_bundle
from bench.sweep.runtime_runners import find_runtime_runner_bundle, variant_folder_next_to
from bench.sweep.settings import SweepConfig
from formats.backends import RUNTIMES

CONFIGS = ["full", "conv5_1_simple"]
LAYOUT = DeviceLayout()
LITE = RUNTIMES["torchscript_lite"]
LITE_RUNNER = LAYOUT.runner_of(LITE.name)


def script_runner(name: str, runtimes: list[str]) -> str:
    """A runner that answers --version with ``runtimes`` and otherwise logs its argv and reports ok."""
    capabilities = json.dumps({"schema": "splitbench.runner_capabilities", "schema_version": 1,
                               "runtimes": runtimes})
    return (f'if [ "$1" = --version ]; then echo {shlex.quote(capabilities)}; exit 0; fi\n'
            f'echo "{name} runner: $*" >&2\n'
            f"echo {shlex.quote(json.dumps(runner_result_json()))}\n")


def write_build_root(build_root: Path, lite_runtimes: list[str] | None) -> Path:
    """build_root/linux-x86_64/bundle, plus the -lite bundle beside it unless lite_runtimes is None."""
    plain = write_script_bundle(build_root / "linux-x86_64" / "bundle", script_runner("plain", ["executorch"]))
    if lite_runtimes is not None:
        write_script_bundle(build_root / "linux-x86_64-lite" / "bundle", script_runner("lite", lite_runtimes))
    return plain


def write_mixed_manifest(folder: Path) -> Path:
    """One xnnpack .pte and one lite .ptl program per configuration."""
    programs = []
    for backend in ("xnnpack", "lite"):
        data = json.loads(write_manifest(folder, CONFIGS, backend=backend).read_text())
        for entry in data["programs"]:
            if backend == "lite":
                entry["format"] = "ptl"
            programs.append(entry)
    data["programs"] = programs
    path = folder / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def sweep(tmp_path: Path, plain_bundle: Path, backends=None, connection=None):
    manifest = write_mixed_manifest(tmp_path / "export")
    connection = connection or HostSandboxConnection(tmp_path / "sandbox")
    request = RunRequest(serial_spec="host", results_dir=tmp_path / "out", manifest_path=manifest,
                         runner_bundle_dir=plain_bundle,
                         config=SweepConfig(iterations=2, launches=2, cooldown_s=0, cooldown_max_s=0,
                                            drop_caches=False, backends=backends))
    opened = open_run(request)
    report = execute_run(opened, request, DeviceLink(lambda: connection, attempts=0))
    rows = [json.loads(line) for line in opened.folder.results_path.read_text().splitlines()]
    return report, rows, connection


def test_ptl_programs_run_with_the_lite_runner_and_the_manifest_input_shape(tmp_path):
    plain = write_build_root(tmp_path / "build", lite_runtimes=["executorch", "torchscript_lite"])
    report, rows, connection = sweep(tmp_path, plain)
    assert len(rows) == 2 * 2 * len(CONFIGS) and {r["status"] for r in rows} == {"ok"}
    for row in rows:
        if row["manifest_entry"]["format"] == "ptl":
            assert "lite runner: " in row["runner_stderr"]
            assert "--input-shape 1,3,32,32" in row["runner_stderr"]
        else:
            assert "plain runner: " in row["runner_stderr"] and "--input-shape" not in row["runner_stderr"]
    assert connection.host_path(LITE_RUNNER.executable).is_file()
    assert report.runtime_runners[LITE.name].bundle.folder == tmp_path / "build" / "linux-x86_64-lite" / "bundle"
    info = json.loads((report.folder / "run.json").read_text())
    assert info["sessions"][0]["lite_runner"]["unavailable_reason"] is None

    again, _, _ = sweep(tmp_path / "again", plain, connection=connection)  # same device: nothing moves
    assert again.deploy.files_pushed == 0 and again.deploy.files_checked == report.deploy.files_checked


def test_a_sweep_without_ptl_programs_leaves_the_lite_runner_alone(tmp_path):
    plain = write_build_root(tmp_path / "build", lite_runtimes=["executorch", "torchscript_lite"])
    report, rows, connection = sweep(tmp_path, plain, backends=("xnnpack",))
    assert {r["status"] for r in rows} == {"ok"} and report.runtime_runners == {}
    assert not connection.host_path(LITE_RUNNER.folder).exists()


def test_no_lite_build_gives_unsupported_rows_that_say_how_to_build_it(tmp_path):
    plain = write_build_root(tmp_path / "build", lite_runtimes=None)
    report, rows, connection = sweep(tmp_path, plain)
    statuses = {(r["program_id"], r["launch_index"]): r["status"] for r in rows}
    assert statuses == {(f"{c}.{b}", i): "ok" if b == "xnnpack" else "unsupported"
                        for c in CONFIGS for b in ("xnnpack", "lite") for i in range(2)}
    unsupported = [r for r in rows if r["status"] == "unsupported"]
    for row in unsupported:
        assert row["runner"] is None and row["runner_exit_code"] is None
        assert "build it with: bash android_app/build_host.sh --with-lite" in row["runner_stderr"]
    assert report.summary.statuses == {"ok": 4, "unsupported": 4}
    assert not connection.host_path(LITE_RUNNER.folder).exists()
    info = json.loads((report.folder / "run.json").read_text())
    assert "--with-lite" in info["sessions"][0]["lite_runner"]["unavailable_reason"]


def test_a_lite_runner_without_the_lite_runtime_gives_unsupported_rows(tmp_path):
    plain = write_build_root(tmp_path / "build", lite_runtimes=["executorch"])
    _, rows, _ = sweep(tmp_path, plain)
    unsupported = {r["program_id"] for r in rows if r["status"] == "unsupported"}
    assert unsupported == {f"{c}.lite" for c in CONFIGS}
    message = next(r["runner_stderr"] for r in rows if r["status"] == "unsupported")
    assert "reports runtimes ['executorch'], without torchscript_lite" in message


def test_a_lite_runner_that_cannot_be_pushed_fails_only_the_ptl_programs(tmp_path):
    plain = write_build_root(tmp_path / "build", lite_runtimes=["executorch", "torchscript_lite"])
    lite = tmp_path / "build" / "linux-x86_64-lite" / "bundle"
    bundle_json = json.loads((lite / "bundle.json").read_text())
    (lite / "lib" / "libfake.so").write_bytes(b"x" * 6000)  # bigger than the device's quota
    for entry in bundle_json["files"]:
        if entry["path"] == "lib/libfake.so":
            entry.update(sha256=sha256_of(lite / "lib" / "libfake.so"), size_bytes=6000)
    (lite / "bundle.json").write_text(json.dumps(bundle_json))
    connection = HostSandboxConnection(tmp_path / "sandbox", quota_bytes=5000)
    _, rows, _ = sweep(tmp_path, plain, connection=connection)
    statuses = {r["program_id"]: r["status"] for r in rows}
    assert statuses == {"full.xnnpack": "ok", "conv5_1_simple.xnnpack": "ok",
                        "full.lite": "deploy_error", "conv5_1_simple.lite": "deploy_error"}
    message = next(r["runner_stderr"] for r in rows if r["status"] == "deploy_error")
    assert "could not put the TorchScript Lite runner on the device" in message and "no space left" in message


def test_runner_command_picks_the_runner_and_passes_the_input_shape_for_ptl(tmp_path):
    programs = select_programs(load_manifest_file(write_mixed_manifest(tmp_path)), configurations=("full",))
    argv = {p.format: runner_args(LAYOUT, LaunchRequest(p, core=1, drop_page_cache=False), SweepConfig())
            for p in programs}
    commands = {p.format: LAYOUT.runner_for(p).command(*argv[p.format]) for p in programs}
    assert commands["pte"].startswith("env LD_LIBRARY_PATH=/data/local/tmp/splitbench/runner/lib "
                                      "/data/local/tmp/splitbench/runner/splitbench_runner --model ")
    assert "--input-shape" not in argv["pte"]
    assert commands["ptl"].startswith("env LD_LIBRARY_PATH=/data/local/tmp/splitbench/runner-lite/lib "
                                      "/data/local/tmp/splitbench/runner-lite/splitbench_runner --model ")
    assert argv["ptl"][argv["ptl"].index("--input-shape") + 1] == "1,3,32,32"


def test_a_glibc_bundled_runner_starts_through_its_own_loader_without_the_device_library_path():
    layout = DeviceLayout(root="/data/local/tmp/my dir", runner_loader="lib/ld-linux-aarch64.so.1",
                          runner_library_path=("lib",))
    command = layout.runner.command("--model", "/data/local/tmp/my dir/models/a b.pte")
    assert command == ("env -u LD_LIBRARY_PATH -u LD_PRELOAD '/data/local/tmp/my dir/runner/lib/ld-linux-aarch64.so.1' "
                       "--library-path '/data/local/tmp/my dir/runner/lib' '/data/local/tmp/my dir/runner/splitbench_runner' "
                       "--model '/data/local/tmp/my dir/models/a b.pte'")


def test_lite_bundle_lookup(tmp_path):
    plain_folder = write_build_root(tmp_path / "build", lite_runtimes=None)
    plain = load_runner_bundle(plain_folder)
    assert variant_folder_next_to(plain_folder, LITE) == tmp_path / "build" / "linux-x86_64-lite" / "bundle"
    android = write_script_bundle(tmp_path / "build" / "android-arm64-v8a" / "bundle", "exit 0\n",
                                  platform="android", abi="arm64-v8a")
    choice = find_runtime_runner_bundle(linux_facts("arm64-v8a", "android"), LITE, load_runner_bundle(android))
    assert choice.bundle is None and "android build of the runner has no TorchScript Lite runtime" in choice.unavailable_reason
    assert "--formats pte" in choice.unavailable_reason
    with pytest.raises(UnsupportedDevice, match="is for android-arm64-v8a but s is linux-x86_64"):
        find_runtime_runner_bundle(linux_facts(), LITE, plain, folder=android)  # a folder given on purpose must fit
    broken = tmp_path / "build" / "linux-x86_64-lite" / "bundle"
    broken.mkdir(parents=True)
    (broken / "bundle.json").write_text("{not json")
    choice = find_runtime_runner_bundle(linux_facts(), LITE, plain)
    assert choice.bundle is None and "unreadable" in choice.unavailable_reason
