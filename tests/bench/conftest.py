"""Fixtures shared by the bench tests."""

import pytest

from bench.loopback import LoopbackDevice


@pytest.fixture
def device(tmp_path):
    """A loopback ADB device serving its own sandbox below tmp_path, stopped after the test."""
    with LoopbackDevice(tmp_path / "sandbox") as loopback:
        yield loopback


@pytest.fixture
def outside(tmp_path):
    """A host folder beside the device's sandbox, with a file no device path may reach."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("host secret\n")
    return folder
