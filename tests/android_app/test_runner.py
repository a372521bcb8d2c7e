"""The host build of splitbench_runner on real (small) ExecuTorch programs.

The bundle is built once per session (android_app/build_host.sh) when it is missing
or older than its sources. Outputs are checked against ExecuTorch's Python runtime.
"""

import json
import os
import platform
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from runner_builds import HOST_BUNDLE, RUNNER_EXECUTABLE
from runner_helpers import allowed_core, export_program, run_runner

BUNDLE = HOST_BUNDLE
RUNNER = BUNDLE / RUNNER_EXECUTABLE
RUN_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def lite_runner(lite_runner_bundle) -> Path:
    return lite_runner_bundle / RUNNER_EXECUTABLE


@pytest.fixture(scope="session")
def programs(tmp_path_factory) -> dict:
    """Two tiny programs: a conv+linear net lowered to XNNPACK, and x + 1 on portable kernels."""
    import torch
    from executorch.exir import to_edge_transform_and_lower

    class AddOne(torch.nn.Module):
        def forward(self, x):
            return x + 1

    folder = tmp_path_factory.mktemp("runner_programs")
    add_one = to_edge_transform_and_lower(torch.export.export(AddOne(), (torch.rand(1, 4),))).to_executorch()
    (folder / "add_one.pte").write_bytes(add_one.buffer)
    return {"convnet": export_program(folder / "convnet.pte", "tiny"), "add_one": folder / "add_one.pte"}


def python_reference_output(program: Path, inputs: list, data: Path | None = None):
    import torch
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(program, data_path=data).load_method("forward")
    return method.execute([torch.from_numpy(x) for x in inputs])[0].numpy()


# --- build and bundle -------------------------------------------------------------------------

def test_version_reports_capabilities(runner):
    caps, done = run_runner(runner, "--version")
    assert done.returncode == 0
    assert caps["schema"] == "splitbench.runner_capabilities" and caps["schema_version"] == 1
    assert "executorch" in caps["runtimes"]
    assert caps["abi"] == platform.machine() and caps["platform"] == "linux"
    assert caps["executorch_version"].startswith("1.5")


def test_bundle_manifest_lists_every_file_with_its_hash(runner):
    import hashlib

    manifest = json.loads((BUNDLE / "bundle.json").read_text())
    assert manifest["schema"] == "splitbench.runner_bundle" and manifest["schema_version"] == 2
    assert (manifest["platform"], manifest["abi"]) == ("linux", platform.machine())
    assert (manifest["libc"], manifest["launch"]["loader"], manifest["elf_machine"]) == ("system", None, platform.machine())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*") if p.is_file()} - {"bundle.json"}
    assert set(listed) == on_disk
    assert "splitbench_runner" in listed and "lib/libexecutorch.so" in listed
    for path, entry in listed.items():
        data = (BUNDLE / path).read_bytes()
        assert entry["size_bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_bundle_runs_after_being_moved(runner, programs, tmp_path):
    moved = tmp_path / "somewhere" / "bundle"
    shutil.copytree(BUNDLE, moved)
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    done = subprocess.run([str(moved / "splitbench_runner"), "--model", str(programs["convnet"]),
                           "--iterations", "2"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"


# --- results agree with ExecuTorch's Python runtime --------------------------------------------

@pytest.mark.parametrize("load_mode", ["file", "mmap"])
def test_output_matches_python_runtime_bit_for_bit(runner, programs, input_gen, load_mode):
    result, done = run_runner(runner, "--model", programs["convnet"], "--iterations", "3",
                              "--input", "random", "--seed", "11", "--load-mode", load_mode)
    assert done.returncode == 0, done.stderr
    expected = python_reference_output(programs["convnet"], [input_gen.random_input((1, 3, 16, 16), 11)])
    output = result["output"]
    assert output["shape"] == list(expected.shape) and output["dtype"] == "float32"
    assert output["checksum"] == input_gen.checksum(expected.astype(np.float32).tobytes())
    assert output["first_values"] == pytest.approx(expected.ravel()[:8].tolist(), abs=0)
    assert output["sum"] == pytest.approx(float(expected.astype(np.float64).sum()), rel=1e-6)


def test_raw_input_file_is_fed_as_is(runner, programs, input_gen, tmp_path):
    raw = tmp_path / "input.raw"
    values = np.linspace(-2, 2, 4, dtype=np.float32).reshape(1, 4)
    values.tofile(raw)
    result, done = run_runner(runner, "--model", programs["add_one"], "--input", raw, "--iterations", "1")
    assert done.returncode == 0, done.stderr
    assert result["output"]["first_values"] == pytest.approx((values + 1).ravel().tolist())
    assert result["output"]["checksum"] == input_gen.checksum((values + 1).tobytes())


def test_zeros_and_seeds_change_the_input(runner, programs):
    checksums = {}
    for source, seed in (("zeros", 0), ("random", 0), ("random", 1)):
        result, done = run_runner(runner, "--model", programs["add_one"], "--input", source,
                                  "--seed", seed, "--iterations", "1")
        assert done.returncode == 0
        checksums[(source, seed)] = result["output"]["checksum"]
    assert len(set(checksums.values())) == 3
    zeros, _ = run_runner(runner, "--model", programs["add_one"], "--input", "zeros", "--iterations", "1")
    assert zeros["output"]["first_values"] == [1.0, 1.0, 1.0, 1.0]


# --- the JSON holds what it claims ---------------------------------------------------------------

def test_pinned_run_reports_mask_cpus_samples_and_memory(runner, programs):
    core = allowed_core()
    result, done = run_runner(runner, "--model", programs["convnet"], "--core", core,
                              "--iterations", 7, "--warmup", 2)
    assert done.returncode == 0, done.stderr
    assert result["schema"] == "splitbench.runner_result" and result["status"] == "ok"
    assert result["error_kind"] is None and result["message"] is None
    assert result["affinity"] == {"requested_core": core, "cpus_allowed_list": str(core),
                                  "cpus_observed": [core]}
    assert result["threads"] == {"requested": 1, "threadpool_size": 1}
    timing = result["timing"]
    assert len(timing["inference_ms"]) == 7 and len(timing["warmup_ms"]) == 2
    assert timing["load_ms"] == pytest.approx(timing["program_load_ms"] + timing["method_load_ms"])
    assert timing["first_inference_ms"] > 0 and min(timing["inference_ms"]) > 0
    memory = result["memory"]
    assert memory["vm_hwm_kb"] >= memory["rss_after_load_kb"] >= memory["rss_baseline_kb"] > 0
    assert memory["vm_hwm_kb"] >= memory["rss_after_runs_kb"]
    assert result["model"]["size_bytes"] == programs["convnet"].stat().st_size
    assert result["model"]["format"] == "pte"
    assert result["options"]["core"] == core and result["options"]["iterations"] == 7


def test_thread_pool_takes_the_requested_size(runner, programs):
    result, done = run_runner(runner, "--model", programs["convnet"], "--threads", 2, "--iterations", 2)
    assert done.returncode == 0
    assert result["threads"] == {"requested": 2, "threadpool_size": 2}
    assert result["affinity"]["requested_core"] == -1


def test_min_time_keeps_running_past_the_count(runner, programs):
    result, done = run_runner(runner, "--model", programs["convnet"], "--iterations", 3,
                              "--min-time-ms", 150)
    assert done.returncode == 0
    samples = result["timing"]["inference_ms"]
    assert len(samples) > 3
    assert sum(samples) >= 0.5 * 150  # the loop ran for at least min-time; samples are most of it


def test_max_time_caps_the_count(runner, programs):
    result, done = run_runner(runner, "--model", programs["convnet"], "--iterations", 10_000_000,
                              "--max-time-ms", 100)
    assert done.returncode == 0
    assert 1 <= len(result["timing"]["inference_ms"]) < 10_000_000


def test_output_json_goes_to_the_file(runner, programs, tmp_path):
    target = tmp_path / "result.json"
    done = subprocess.run([str(runner), "--model", str(programs["add_one"]), "--iterations", "1",
                           "--output-json", str(target)], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0 and done.stdout == ""
    assert json.loads(target.read_text())["status"] == "ok"


# --- every bad input ends with a clear error, never a hang ----------------------------------------

def _corrupt_files(folder: Path, programs: dict) -> dict:
    garbage = folder / "garbage.pte"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    truncated = folder / "truncated.pte"
    truncated.write_bytes(programs["convnet"].read_bytes()[:2000])
    empty = folder / "empty.pte"
    empty.write_bytes(b"")
    lite = folder / "model.ptl"
    with zipfile.ZipFile(lite, "w") as archive:
        archive.writestr("model/data.pkl", b"not really")
    wrong_size = folder / "wrong.raw"
    wrong_size.write_bytes(b"\0" * 12)
    return {"garbage": garbage, "truncated": truncated, "empty": empty, "lite": lite,
            "wrong_size": wrong_size}


@pytest.mark.parametrize("case, expected_kind", [
    ("missing_file", "model_missing"),
    ("directory", "model_missing"),
    ("garbage", "model_corrupt"),
    ("truncated", "model_corrupt"),
    ("empty", "model_corrupt"),
    ("lite_without_interpreter", "unsupported_format"),
    ("wrong_input_size", "input_shape"),
    ("wrong_input_shape_flag", "input_shape"),
    ("core_not_allowed", "core_unavailable"),
    ("core_out_of_range", "core_unavailable"),
    ("unknown_flag", "bad_args"),
    ("bad_number", "bad_args"),
    ("no_model", "bad_args"),
    ("missing_input_file", "bad_args"),
])
def test_bad_input_ends_in_an_error_result(runner, programs, tmp_path, case, expected_kind):
    files = _corrupt_files(tmp_path, programs)
    convnet = programs["convnet"]
    args = {
        "missing_file": ["--model", tmp_path / "nope.pte"],
        "directory": ["--model", tmp_path],
        "garbage": ["--model", files["garbage"]],
        "truncated": ["--model", files["truncated"]],
        "empty": ["--model", files["empty"]],
        "lite_without_interpreter": ["--model", files["lite"]],
        "wrong_input_size": ["--model", convnet, "--input", files["wrong_size"]],
        "wrong_input_shape_flag": ["--model", convnet, "--input-shape", "1,3,16,17"],
        "core_not_allowed": ["--model", convnet, "--core", max(os.sched_getaffinity(0)) + 1],
        "core_out_of_range": ["--model", convnet, "--core", 1 << 20],
        "unknown_flag": ["--model", convnet, "--frobnicate", "1"],
        "bad_number": ["--model", convnet, "--iterations", "many"],
        "no_model": ["--iterations", "3"],
        "missing_input_file": ["--model", convnet, "--input", tmp_path / "absent.raw"],
    }[case]
    if case == "lite_without_interpreter" and "torchscript_lite" in run_runner(runner, "--version")[0]["runtimes"]:
        pytest.skip("this build includes the Lite interpreter")
    result, done = run_runner(runner, *args)
    assert done.returncode != 0
    assert result["schema"] == "splitbench.runner_result"
    assert result["status"] == "error" and result["error_kind"] == expected_kind
    assert result["message"] and "\n" not in result["message"]
    assert result["output"] is None
    assert "error" in done.stderr


# --- the project's own reduced-size export (tests/conftest.py: small_export) -------------------



def _measured_programs(manifest, fmt: str):
    return [entry for entry in manifest.programs_with_role("full", "client") if entry.format == fmt]


def _data_file(manifest_path: Path, entry) -> Path | None:
    """The data file (.ptd) holding the entry's weights, or None when they are inside the program."""
    return manifest_path.parent / entry.data_file if entry.data_file else None


def _data_args(data: Path | None) -> list:
    return ["--data", data] if data else []


def test_small_export_programs_match_python_runtime(runner, small_export, input_gen):
    from formats.manifest import program_file

    manifest_path, manifest = small_export
    entries = _measured_programs(manifest, "pte")
    assert {entry.backend for entry in entries} >= {"xnnpack"}
    for entry in entries:
        path, data = program_file(manifest_path, entry), _data_file(manifest_path, entry)
        result, done = run_runner(runner, "--model", path, *_data_args(data), "--iterations", 1, "--warmup", 0,
                                  "--seed", 5)
        assert done.returncode == 0, (entry.id, result["message"])
        output = result["output"]
        assert output["shape"] == entry.output_shape and output["dtype"] == entry.output_dtype
        assert result["inputs"] == [{"shape": entry.input_shape, "dtype": entry.input_dtype}]
        if entry.noise is not None:
            continue  # fresh noise at every inference: nothing deterministic to compare
        expected = python_reference_output(path, [input_gen.random_input(tuple(entry.input_shape), 5)], data)
        assert output["checksum"] == input_gen.checksum(expected.tobytes()), entry.id


def test_noisy_program_draws_fresh_noise_per_launch(runner, small_export):
    from formats.manifest import program_file

    manifest_path, manifest = small_export
    noisy = [e for e in _measured_programs(manifest, "pte") if e.noise is not None and e.backend == "xnnpack"]
    assert noisy, "the small export should hold a noisy program"
    path, data = program_file(manifest_path, noisy[0]), _data_file(manifest_path, noisy[0])
    checksums = {run_runner(runner, "--model", path, *_data_args(data), "--iterations", 1, "--input",
                            "zeros")[0]["output"]["checksum"]
                 for _ in range(2)}
    assert len(checksums) == 2


def test_lite_programs_match_python_lite_interpreter(small_export, input_gen, lite_runner):
    import torch
    from torch.jit.mobile import _load_for_lite_interpreter

    from formats.manifest import program_file

    manifest_path, manifest = small_export
    entries = [e for e in _measured_programs(manifest, "ptl") if e.noise is None]
    assert entries
    torch.set_num_threads(1)
    for entry in entries:
        path = program_file(manifest_path, entry)
        shape = ",".join(map(str, entry.input_shape))
        result, done = run_runner(lite_runner, "--model", path, "--input-shape", shape, "--iterations", 2,
                                  "--seed", 9)
        assert done.returncode == 0, (entry.id, result["message"])
        assert result["model"]["format"] == "ptl" and result["timing"]["method_load_ms"] is None
        with torch.inference_mode():
            expected = _load_for_lite_interpreter(str(path))(
                torch.from_numpy(input_gen.random_input(tuple(entry.input_shape), 9))).numpy()
        assert result["output"]["shape"] == list(expected.shape)
        assert result["output"]["sum"] == pytest.approx(float(expected.sum()), rel=1e-4, abs=1e-5)
        assert result["output"]["first_values"] == pytest.approx(expected.ravel()[:8].tolist(),
                                                                 rel=1e-4, abs=1e-5)


def test_lite_program_without_input_shape_is_refused(small_export, lite_runner):
    from formats.manifest import program_file

    manifest_path, manifest = small_export
    path = program_file(manifest_path, _measured_programs(manifest, "ptl")[0])
    result, done = run_runner(lite_runner, "--model", path)
    assert done.returncode != 0
    assert result["error_kind"] == "bad_args" and "--input-shape" in result["message"]


def test_random_input_matches_the_python_twin_for_any_seed(runner, programs, input_gen):
    seed = 2**64 - 1
    result, done = run_runner(runner, "--model", programs["add_one"], "--seed", seed, "--iterations", 1)
    assert done.returncode == 0
    assert result["options"]["seed"] == seed
    expected = input_gen.random_input((1, 4), seed) + np.float32(1)
    assert result["output"]["checksum"] == input_gen.checksum(expected.tobytes())


def test_unwritable_output_json_fails_with_its_own_exit_code(runner, programs, tmp_path):
    done = subprocess.run([str(runner), "--model", str(programs["add_one"]), "--output-json",
                           str(tmp_path / "missing_folder" / "result.json")],
                          capture_output=True, text=True, errors="replace", timeout=RUN_TIMEOUT_S)
    assert done.returncode == 3
    assert "cannot write" in done.stderr
