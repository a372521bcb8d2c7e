"""The export's writers come from one registry keyed by the backend table's writer names."""

import pytest

from export.errors import ConfigError
from export.writers import WRITERS, write_executorch, write_executorch_int8, write_torchscript_lite, writer_for
from formats.backends import BACKEND_TABLE


def test_every_backend_of_the_table_has_its_writer():
    assert {row.writer for row in BACKEND_TABLE} <= set(WRITERS)
    assert writer_for("xnnpack") is writer_for("portable") is write_executorch
    assert writer_for("xnnpack_int8") is write_executorch_int8 and writer_for("lite") is write_torchscript_lite


def test_an_unknown_backend_has_no_writer():
    with pytest.raises(ConfigError, match="unknown backend 'onnx'"):
        writer_for("onnx")
