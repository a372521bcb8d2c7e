"""The host runner with --data: a program whose weights live in an ExecuTorch data file (.ptd) beside it.

A small VGG-16 is exported once per module, with its weights inside the program and with them in a data file
(export/shared_weights.py), and its conv5_3 client with them in a data file too. The data-file program must give
the embedded program's output byte for byte; a client runs against the full model's data file (a superset of its
own); every wrong or damaged data file ends in a one-line error of the right kind (android_app/README.md,
"External weights").
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from runner_builds import APP, RUNNER_EXECUTABLE
from runner_helpers import run_runner

from formats.runner_result import RUNNER_RESULT_VERSIONS, check_runner_result

EXIT_RUN_FAILED, EXIT_BAD_ARGS = 1, 2
INPUT_SIZE = 32
RUN_ARGS = ("--iterations", "2", "--warmup", "0")


@pytest.fixture(scope="module")
def vgg(tmp_path_factory) -> dict[str, Path]:
    """name -> file: the full model embedded ("embedded.pte") and with a data file ("full.pte", "full.ptd"), its
    conv5_3 client with a data file ("client.pte", "client.ptd"), and another seed's model ("other.ptd")."""
    import torch

    from export.architectures import architecture_graph, seeded_model
    from export.executorch_writer import write_pte
    from export.models import ModelShape
    from export.shared_weights import write_pte_with_external_weights
    from export.split_model import split_graph

    folder = tmp_path_factory.mktemp("data_file")
    shape = ModelShape(num_classes=10, input_size=INPUT_SIZE, width_divisor=8)
    example = torch.zeros(shape.input_shape)
    model = seeded_model("vgg16", shape, 0)
    write_pte(model, example, folder / "embedded.pte", "xnnpack")
    write_pte_with_external_weights(model, example, folder / "full.pte", folder / "full.ptd")
    client = split_graph(architecture_graph("vgg16", model, INPUT_SIZE), "conv5_3").client
    write_pte_with_external_weights(client, example, folder / "client.pte", folder / "client.ptd")
    other = seeded_model("vgg16", shape, 1)
    write_pte_with_external_weights(other, example, folder / "other.pte", folder / "other.ptd")
    return {path.name: path for path in folder.iterdir()}


def run_ok(runner: Path, *args) -> dict:
    result, done = run_runner(runner, *args, *RUN_ARGS)
    assert done.returncode == 0, done.stderr[-2000:]
    assert result["status"] == "ok"
    return result


def run_error(runner: Path, exit_code: int, kind: str, *args) -> str:
    """The one-line message of a run that must fail with `kind`."""
    result, done = run_runner(runner, *args, *RUN_ARGS)
    assert done.returncode == exit_code, done.stderr[-2000:]
    assert result["status"] == "error" and result["error_kind"] == kind, result["message"]
    assert result["message"] and "\n" not in result["message"]
    assert result["output"] is None
    return result["message"]


# --- the data file gives the program its weights -------------------------------------------------------------

@pytest.mark.parametrize("load_mode", ["file", "mmap"])
@pytest.mark.parametrize("source", [("--input", "zeros"), ("--input", "random", "--seed", "7")])
def test_data_file_program_gives_the_embedded_programs_output(runner, vgg, tmp_path, load_mode, source):
    common = ("--load-mode", load_mode, *source)
    embedded = run_ok(runner, "--model", vgg["embedded.pte"], *common, "--write-output", tmp_path / "embedded.raw")
    external = run_ok(runner, "--model", vgg["full.pte"], "--data", vgg["full.ptd"], *common,
                      "--write-output", tmp_path / "external.raw")
    assert (tmp_path / "external.raw").read_bytes() == (tmp_path / "embedded.raw").read_bytes()
    assert external["output"]["checksum"] == embedded["output"]["checksum"]
    values = np.fromfile(tmp_path / "external.raw", "<f4")
    assert values.size == 10
    if "random" in source:  # (zeros in, zeros out: the seeded model's biases are zero)
        assert np.abs(values).max() > 0
    assert embedded["data"] is None


def test_result_reports_the_data_file(runner, vgg):
    result = run_ok(runner, "--model", vgg["full.pte"], "--data", vgg["full.ptd"])
    assert result["schema_version"] == RUNNER_RESULT_VERSIONS[-1] >= 3
    assert check_runner_result(result, "runner stdout") == result["schema_version"]
    assert result["data"] == {"path": str(vgg["full.ptd"]), "size_bytes": vgg["full.ptd"].stat().st_size}
    assert result["model"]["size_bytes"] < result["data"]["size_bytes"] / 100  # the weights left the program


def test_capabilities_announce_data_files(runner):
    caps, done = run_runner(runner, "--version")
    assert done.returncode == 0
    assert caps["data_files"] is True
    assert caps["runner_result_schema_version"] == RUNNER_RESULT_VERSIONS[-1] >= 3


def test_client_runs_against_the_full_models_data_file(runner, vgg, tmp_path):
    from export.shared_weights import data_file_keys

    client_keys, full_keys = data_file_keys(vgg["client.ptd"]), data_file_keys(vgg["full.ptd"])
    assert client_keys and client_keys < full_keys
    own = run_ok(runner, "--model", vgg["client.pte"], "--data", vgg["client.ptd"], "--input", "random",
                 "--write-output", tmp_path / "own.raw")
    shared = run_ok(runner, "--model", vgg["client.pte"], "--data", vgg["full.ptd"], "--input", "random",
                    "--write-output", tmp_path / "shared.raw")
    assert (tmp_path / "shared.raw").read_bytes() == (tmp_path / "own.raw").read_bytes()
    assert shared["output"]["shape"] == own["output"]["shape"] == [1, 512 // 8, 2, 2]


@pytest.mark.slow  # imports executorch's serializer (and torch)
def test_runner_placeholder_data_map_is_a_valid_data_file(tmp_path):
    """The data map a run without --data gets (executorch_session.cpp) reads as a .ptd with its one key."""
    from export.shared_weights import data_file_keys

    source = (APP / "src" / "executorch_session.cpp").read_text()
    declaration = re.search(r"kPlaceholderDataFile\[(\d+)\] = \{([^}]*)\}", source)
    assert declaration, "kPlaceholderDataFile is gone from executorch_session.cpp"
    listed = bytes(int(byte, 16) for byte in re.findall(r"0x[0-9a-f]{2}", declaration.group(2)))
    path = tmp_path / "placeholder.ptd"
    path.write_bytes(listed.ljust(int(declaration.group(1)), b"\0"))
    assert data_file_keys(path) == {"splitbench.no_weights"}


# --- every wrong data file ends in a clear error -------------------------------------------------------------

def test_program_with_external_weights_without_data_asks_for_it(runner, vgg):
    message = run_error(runner, EXIT_BAD_ARGS, "bad_args", "--model", vgg["full.pte"])
    assert "pass that file with --data" in message and str(vgg["full.pte"]) in message


def test_missing_data_file_is_model_missing(runner, vgg, tmp_path):
    absent = tmp_path / "absent.ptd"
    message = run_error(runner, EXIT_RUN_FAILED, "model_missing", "--model", vgg["full.pte"], "--data", absent)
    assert f"data file '{absent}'" in message and "--data" in message


def test_data_path_that_is_a_folder_is_model_missing(runner, vgg, tmp_path):
    message = run_error(runner, EXIT_RUN_FAILED, "model_missing", "--model", vgg["full.pte"], "--data", tmp_path)
    assert "not a regular file" in message


def _damaged(original: bytes, how: str) -> bytes:
    return {
        "header_only": original[:100],
        "half": original[:len(original) // 2],
        "last_bytes_missing": original[:-100],
        "garbage": np.random.default_rng(0).bytes(len(original)),
        "empty": b"",
    }[how]


@pytest.mark.parametrize("load_mode", ["file", "mmap"])
@pytest.mark.parametrize("how", ["header_only", "half", "last_bytes_missing", "garbage", "empty"])
def test_damaged_data_file_is_model_corrupt(runner, vgg, tmp_path, how, load_mode):
    damaged = tmp_path / f"{how}.ptd"
    damaged.write_bytes(_damaged(vgg["full.ptd"].read_bytes(), how))
    message = run_error(runner, EXIT_RUN_FAILED, "model_corrupt", "--model", vgg["full.pte"], "--data", damaged,
                        "--load-mode", load_mode)
    assert f"data file '{damaged}'" in message and "re-export it" in message


def test_damaged_program_with_a_good_data_file_names_the_program(runner, vgg, tmp_path):
    damaged = tmp_path / "damaged.pte"
    damaged.write_bytes(vgg["full.pte"].read_bytes()[:2000])
    message = run_error(runner, EXIT_RUN_FAILED, "model_corrupt", "--model", damaged, "--data", vgg["full.ptd"])
    assert f"loading '{damaged}'" in message and "data file" not in message


@pytest.mark.parametrize("wrong", ["other.ptd", "client.ptd"])
def test_data_file_lacking_the_programs_weights_is_model_corrupt(runner, vgg, wrong):
    message = run_error(runner, EXIT_RUN_FAILED, "model_corrupt", "--model", vgg["full.pte"], "--data", vgg[wrong])
    assert f"data file '{vgg[wrong]}' lacks weights this program needs" in message
    assert "exported with it" in message


def test_data_file_without_any_weight_is_refused(runner, vgg, tmp_path):
    from export.shared_weights import SharedWeights

    empty = tmp_path / "nothing.ptd"
    SharedWeights().write(empty)
    message = run_error(runner, EXIT_BAD_ARGS, "bad_args", "--model", vgg["full.pte"], "--data", empty)
    assert "holds no weights" in message


# --- --data on the command line -------------------------------------------------------------------------------

@pytest.mark.parametrize("args, mentions", [
    (["--data", ""], "--data expects"),
    (["--data", "MODEL"], "--data names the program itself"),
    (["--data", "DATA", "--write-output", "DATA"], "cannot also be written"),
    (["--data", "DATA", "--output-json", "DATA"], "cannot also be written"),
])
def test_bad_data_flags_are_refused(runner, vgg, args, mentions):
    names = {"MODEL": vgg["full.pte"], "DATA": vgg["full.ptd"]}
    size_before = vgg["full.ptd"].stat().st_size
    message = run_error(runner, EXIT_BAD_ARGS, "bad_args", "--model", vgg["full.pte"],
                        *[names.get(arg, arg) for arg in args])
    assert mentions in message
    assert vgg["full.ptd"].stat().st_size == size_before


def test_measure_peak_refuses_data(runner, vgg):
    result, done = run_runner(runner, "--measure-peak", "--data", vgg["full.ptd"])
    assert done.returncode == EXIT_BAD_ARGS
    assert result["error_kind"] == "bad_args" and "--data" in result["message"]


def test_lite_program_refuses_data_in_any_build(runner, vgg, tmp_path):
    """A zip archive is taken for a .ptl; --data is refused before the Lite interpreter is even needed."""
    lite = tmp_path / "model.ptl"
    with zipfile.ZipFile(lite, "w") as archive:
        archive.writestr("model/data.pkl", b"not really")
    message = run_error(runner, EXIT_BAD_ARGS, "bad_args", "--model", lite, "--data", vgg["full.ptd"])
    assert "--data goes with ExecuTorch (.pte) programs only" in message


def test_lite_runner_refuses_data_for_a_real_ptl(lite_runner_bundle, vgg, tmp_path):
    import torch

    lite = tmp_path / "linear.ptl"
    torch.jit.script(torch.nn.Linear(4, 2))._save_for_lite_interpreter(str(lite))
    message = run_error(lite_runner_bundle / RUNNER_EXECUTABLE, EXIT_BAD_ARGS, "bad_args", "--model", lite,
                        "--input-shape", "1,4", "--data", vgg["full.ptd"])
    assert "--data goes with ExecuTorch (.pte) programs only" in message
