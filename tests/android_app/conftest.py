"""Fixtures shared by the runner tests."""

import importlib.util
from pathlib import Path

import pytest
from runner_builds import APP, RUNNER_EXECUTABLE
from runner_helpers import export_program


@pytest.fixture(scope="session")
def input_gen():
    """android_app/input_gen.py, the Python twin of the runner's random input and output checksum."""
    spec = importlib.util.spec_from_file_location("splitbench_input_gen", APP / "input_gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def runner(host_runner_bundle) -> Path:
    """The host runner executable (ExecuTorch only)."""
    return host_runner_bundle / RUNNER_EXECUTABLE


@pytest.fixture(scope="session")
def convstack(tmp_path_factory) -> Path:
    """A small conv stack lowered to XNNPACK: a few ms per inference."""
    return export_program(tmp_path_factory.mktemp("convstack") / "convstack.pte", "convstack")
