"""Fuzzing every reader in formats/ (and the analysis that consumes them) with generated inputs: each input
ends in a value or in one error of the project's own kinds (formats.errors.FormatError, analysis.errors.
AnalysisError, bench.errors.BenchError), whose message is one line; never in a traceback of another kind.

The number of inputs per target is set by the Hypothesis profile (tests/conftest.py): a few dozen in the quick
run, thousands in a full run; `pytest --hypothesis-show-statistics tests/fuzz` prints how many were tried."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from fuzz_inputs import JSON_VALUES, as_json_text, damaged_text, mutated
from hypothesis import given
from hypothesis import strategies as st

from analysis.devices import device_kind, device_label
from analysis.errors import AnalysisError
from analysis.loading import load_results
from analysis.tidy import build_tidy_tables
from bench.errors import BenchError
from bench.sweep.programs import load_manifest_file, select_programs
from formats.device_facts import DeviceFacts
from formats.errors import FormatError
from formats.manifest import load_manifest
from formats.results import read_rows
from formats.run_info import check_resumable, read_run_info
from formats.runner_result import check_runner_result, find_runner_result

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis" / "paper_like"
ROW_LINES = (DATA / "results.jsonl").read_text().splitlines()
OK_ROW = json.loads(ROW_LINES[0])
FAILED_ROW = json.loads(next(line for line in ROW_LINES if '"status": "runner_' in line))
RUN_INFO = {"core": 4, "programs": [], "sessions": [{"start_utc": "2026-11-23T10:00:00Z", "rows_written": 29,
                                                      "end": "complete"}],
            **json.loads((DATA / "run.json").read_text())}
DEVICE = OK_ROW["device"]
RUNNER_RESULT = OK_ROW["runner"]
PROGRAM = {
    "id": "full.xnnpack", "configuration": "full", "role": "full", "split_point": None, "reduction": None,
    "noise": None, "format": "pte", "backend": "xnnpack", "dtype": "float32", "file": "full.xnnpack.pte",
    "sha256": "0" * 64, "size_bytes": 64, "input_shape": [1, 3, 32, 32], "input_dtype": "float32",
    "output_shape": [1, 2], "output_dtype": "float32", "output_size_bytes": 8, "param_count": 10, "flops": 100,
    "ptl_bytecode_version": None, "export_time_s": 0.1, "cache_key": "k",
}
MANIFEST = {"schema": "splitbench.manifest", "schema_version": 1, "created_utc": "2026-11-23T11:00:00Z", "tools": {},
            "model": {"arch": "vgg16", "num_classes": 2, "input_size": 32, "width_divisor": 16, "weights": "seed:0"},
            "programs": [PROGRAM, {**PROGRAM, "id": "conv5_1_simple.xnnpack", "configuration": "conv5_1_simple",
                                   "role": "client", "split_point": "conv5_1", "file": "c.pte"}]}
EXPECTED_ERRORS = (FormatError, AnalysisError, BenchError)
SCRATCH = Path(tempfile.mkdtemp(prefix="splitbench_fuzz_"))


def one_line(error: Exception) -> None:
    assert str(error).strip() and "\n" not in str(error).strip(), repr(error)


def written(name: str, text: str | bytes) -> Path:
    path = SCRATCH / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return path


def test_the_seeds_are_valid():
    """The documents the fuzzers damage are themselves read without error (else the fuzzing proves little)."""
    assert load_manifest(written("seed/manifest.json", json.dumps(MANIFEST))).programs
    assert DeviceFacts.from_json(DEVICE).model == "Test Phone 6P"
    check_runner_result(RUNNER_RESULT, "seed")
    check_resumable(read_run_info(written("seed/run.json", json.dumps(RUN_INFO))), "seed")


@given(st.one_of(mutated(MANIFEST, max_changes=4), JSON_VALUES))
def test_fuzz_manifest_reader(document):
    path = written("manifest/manifest.json", as_json_text(document))
    try:
        load_manifest(path)
        select_programs(load_manifest_file(path))  # files absent: ManifestError, but only after every check
    except EXPECTED_ERRORS as error:
        one_line(error)


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))))
def test_fuzz_manifest_reader_on_bytes(data):
    try:
        load_manifest(written("manifest_bytes/manifest.json", data))
    except EXPECTED_ERRORS as error:
        one_line(error)


@given(st.one_of(mutated(RUNNER_RESULT, max_changes=4).map(as_json_text),
                 damaged_text("log line\n" + json.dumps(RUNNER_RESULT) + "\n")))
def test_fuzz_runner_result(output):
    try:
        document = find_runner_result(output)
        if document is not None:
            check_runner_result(document, "runner stdout")
    except EXPECTED_ERRORS as error:
        one_line(error)


@given(st.lists(st.one_of(mutated(OK_ROW, max_changes=3), mutated(FAILED_ROW, max_changes=3), st.just(OK_ROW)),
                min_size=1, max_size=3),
       st.sampled_from(["\n", ""]))
def test_fuzz_results_rows_through_the_analysis(rows, last_newline):
    """results.jsonl rows, damaged, read by formats and turned into the analysis' tidy tables."""
    folder = SCRATCH / "rows"
    written("rows/results.jsonl", "\n".join(as_json_text(row) for row in rows) + last_newline)
    (folder / "run.json").unlink(missing_ok=True)
    try:
        read_rows(folder / "results.jsonl")
        build_tidy_tables(load_results([folder]))
    except EXPECTED_ERRORS as error:
        one_line(error)


@given(st.binary(max_size=300))
def test_fuzz_results_file_of_bytes(data):
    try:
        read_rows(written("row_bytes/results.jsonl", data))
    except EXPECTED_ERRORS as error:
        one_line(error)


@given(st.one_of(mutated(RUN_INFO, max_changes=4), JSON_VALUES))
def test_fuzz_run_info_reader(document):
    path = written("run/run.json", as_json_text(document))
    try:
        info = read_run_info(path)
        check_resumable(info, str(path))
    except EXPECTED_ERRORS as error:
        one_line(error)


@given(st.one_of(mutated(DEVICE, max_changes=4), JSON_VALUES))
def test_fuzz_device_facts_reader(document):
    try:
        facts = DeviceFacts.from_json(document, "device facts")
    except EXPECTED_ERRORS as error:
        one_line(error)
        return
    # what analysis/ does with a device it read
    device_label(facts), device_kind(facts), facts.online_core_indices
    [zone.key for zone in facts.thermal_zones]
    facts.core_peak_gflops(4)


@pytest.fixture(autouse=True, scope="module")
def _no_scratch_left():
    yield
    import shutil
    shutil.rmtree(SCRATCH, ignore_errors=True)
