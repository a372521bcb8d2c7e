"""--write-input / --write-output: the runner's input and first output as raw bytes, equal to what ExecuTorch's
Python runtime gives for the same input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from runner_helpers import export_program, run_runner


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("raw_files")
    return {kind: export_program(folder / f"{kind}.pte", kind) for kind in ("tiny", "convstack")}


def python_runtime_output(program: Path, x: np.ndarray) -> np.ndarray:
    import torch
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(program).load_method("forward")
    return method.execute([torch.from_numpy(x)])[0].numpy()


@pytest.mark.parametrize("kind,shape", [("tiny", (1, 3, 16, 16)), ("convstack", (1, 3, 64, 64))])
def test_written_output_equals_the_python_runtime_on_the_written_input(runner, programs, input_gen, tmp_path,
                                                                       kind, shape):
    input_path, output_path = tmp_path / "input.raw", tmp_path / "output.raw"
    result, done = run_runner(runner, "--model", programs[kind], "--seed", 5, "--iterations", 3,
                              "--write-input", input_path, "--write-output", output_path)
    assert done.returncode == 0, done.stderr
    files = result["files"]
    assert result["options"]["write_input"] == str(input_path)
    assert result["options"]["write_output"] == str(output_path)

    fed = np.fromfile(input_path, dtype="<f4").reshape(shape)
    assert files["input"] == {"path": str(input_path), "size_bytes": fed.nbytes,
                              "tensors": [{"shape": list(shape), "dtype": "float32"}]}
    assert np.array_equal(fed, input_gen.random_input(shape, 5))

    expected = python_runtime_output(programs[kind], fed)
    written = output_path.read_bytes()
    assert files["output"] == {"path": str(output_path), "size_bytes": len(written),
                               "shape": list(expected.shape), "dtype": "float32"}
    assert written == expected.astype("<f4").tobytes()
    assert result["output"]["checksum"] == input_gen.checksum(written)
    assert files["etdump"] is None


def test_written_input_fed_back_gives_the_same_output(runner, programs, tmp_path):
    first_in, first_out, second_out = tmp_path / "in.raw", tmp_path / "out1.raw", tmp_path / "out2.raw"
    _, done = run_runner(runner, "--model", programs["tiny"], "--input", "random", "--seed", 9, "--iterations", 1,
                         "--write-input", first_in, "--write-output", first_out)
    assert done.returncode == 0, done.stderr
    result, done = run_runner(runner, "--model", programs["tiny"], "--input", first_in, "--iterations", 1,
                              "--write-output", second_out)
    assert done.returncode == 0, done.stderr
    assert second_out.read_bytes() == first_out.read_bytes()
    assert result["files"]["input"] is None


def test_no_files_are_written_unless_asked_for(runner, programs, tmp_path):
    result, done = run_runner(runner, "--model", programs["tiny"], "--iterations", 1)
    assert done.returncode == 0, done.stderr
    assert result["files"] == {"input": None, "output": None, "etdump": None}
    assert result["options"]["write_input"] is None and result["options"]["write_output"] is None
    assert result["options"]["etdump"] is None
