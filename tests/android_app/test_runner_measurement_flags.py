"""Bad values for --measure-peak, --peak-isa, --write-input, --write-output and --etdump end in the runner's usual
error result and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_helpers import export_program, run_runner

from formats.runner_result import RUNNER_RESULT_VERSIONS

EXIT_RUN_FAILED, EXIT_BAD_ARGS, EXIT_CANNOT_WRITE = 1, 2, 3


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return export_program(tmp_path_factory.mktemp("flags") / "tiny.pte", "tiny")


def check_error(result: dict, done, schema: str, kind: str, exit_code: int, mentions: str) -> None:
    assert done.returncode == exit_code, done.stderr
    assert result["schema"] == schema and result["status"] == "error"
    assert result["error_kind"] == kind and mentions in result["message"]
    assert "error" in done.stderr and mentions in done.stderr


@pytest.mark.parametrize("args,mentions", [
    (["--write-output", ""], "--write-output"),
    (["--write-input", ""], "--write-input"),
    (["--etdump", ""], "--etdump"),
    (["--write-output"], "--write-output needs a value"),
    (["--peak-isa", "sse2"], "--peak-isa goes with --measure-peak"),
    (["--write-input", "SAME", "--write-output", "SAME"], "different paths"),
    (["--etdump", "SAME", "--output-json", "SAME"], "different paths"),
])
def test_bad_run_flags_are_refused(runner, tiny, tmp_path, args, mentions):
    args = [str(tmp_path / "same.raw") if a == "SAME" else a for a in args]
    result, done = run_runner(runner, "--model", tiny, *args)
    check_error(result, done, "splitbench.runner_result", "bad_args", EXIT_BAD_ARGS, mentions)
    assert result["schema_version"] == RUNNER_RESULT_VERSIONS[-1]


@pytest.mark.parametrize("args,mentions", [
    (["--measure-peak", "--peak-isa", "avx9000"], "--peak-isa expects auto or one of"),
    (["--measure-peak", "--peak-isa", ""], "--peak-isa expects auto or one of"),
    (["--measure-peak", "--model", "x.pte"], "--measure-peak runs no program"),
    (["--measure-peak", "--write-output", "out.raw"], "--measure-peak runs no program"),
])
def test_bad_peak_flags_are_refused(runner, args, mentions):
    result, done = run_runner(runner, *args)
    check_error(result, done, "splitbench.runner_result", "bad_args", EXIT_BAD_ARGS, mentions)


def test_peak_on_a_missing_core_is_a_core_peak_error(runner):
    result, done = run_runner(runner, "--measure-peak", "--core", 4095)
    check_error(result, done, "splitbench.core_peak", "core_unavailable", EXIT_RUN_FAILED, "core 4095")
    assert result["schema_version"] == 1 and result["peak_gflops"] is None and result["kernel"] is None


def test_peak_with_an_isa_this_runner_lacks_is_refused(runner):
    caps, _ = run_runner(runner, "--version")
    missing = [isa for isa in caps["peak_kernel_isas"] if isa not in caps["peak_kernel_isas_supported"]]
    foreign = "neon" if "neon" not in caps["peak_kernel_isas"] else "avx512f"
    for isa in missing:  # compiled in, but this CPU cannot run it
        result, done = run_runner(runner, "--measure-peak", "--peak-isa", isa)
        check_error(result, done, "splitbench.core_peak", "bad_args", EXIT_BAD_ARGS, "cannot run")
    result, done = run_runner(runner, "--measure-peak", "--peak-isa", foreign)
    check_error(result, done, "splitbench.runner_result", "bad_args", EXIT_BAD_ARGS, foreign)


@pytest.mark.parametrize("flag", ["--write-input", "--write-output", "--etdump"])
def test_unwritable_paths_fail_before_the_load(runner, tiny, tmp_path, flag):
    path = tmp_path / "no-such-folder" / "file.bin"
    result, done = run_runner(runner, "--model", tiny, flag, path)
    check_error(result, done, "splitbench.runner_result", "cannot_write", EXIT_CANNOT_WRITE, str(path))
    assert flag in result["message"]
    assert result["timing"] is None  # refused before anything was loaded or run
