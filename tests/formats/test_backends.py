"""The backend table: every backend names a declared runtime, a format has one runtime, the order and defaults
the stages used before the table are kept, and an unknown name is one clear error."""

import pytest

from formats.backends import (
    BACKEND_ORDER,
    BACKEND_TABLE,
    DEFAULT_EXPORT_BACKENDS,
    PRIMARY_RUNTIME,
    PROGRAM_FORMATS,
    RUNTIMES,
    UnknownBackend,
    backend,
    backends_in_order,
    optional_runtimes,
    runtime_of_format,
)


def test_the_table_keeps_the_names_order_and_defaults_of_the_stages():
    assert BACKEND_ORDER == ("xnnpack", "xnnpack_int8", "portable", "lite")
    assert PROGRAM_FORMATS == ("pte", "ptl") and DEFAULT_EXPORT_BACKENDS == ("xnnpack", "portable", "lite")
    assert backends_in_order(["zz", "lite", "aa", "xnnpack", "lite"]) == ["xnnpack", "lite", "aa", "zz"]
    assert backend("xnnpack_int8").dtype == "int8" and backend("lite").format == "ptl"


def test_every_backend_has_a_declared_runtime_and_each_format_one_runtime():
    assert all(row.runtime in RUNTIMES for row in BACKEND_TABLE)
    for row in BACKEND_TABLE:
        assert runtime_of_format(row.format).name == row.runtime
    assert RUNTIMES[PRIMARY_RUNTIME].primary and not RUNTIMES[PRIMARY_RUNTIME].needs_input_shape
    lite = runtime_of_format("ptl")
    assert optional_runtimes() == (lite,) and lite.needs_input_shape and lite.session_field == "lite_runner"
    assert lite.build_command("linux") == "bash android_app/build_host.sh --with-lite"
    assert lite.build_command("android") is None
    assert len({runtime.device_folder for runtime in RUNTIMES.values()}) == len(RUNTIMES)


def test_an_unknown_backend_or_format_is_one_error_listing_the_known_ones():
    with pytest.raises(UnknownBackend, match="unknown backend 'onnx'; known backends: xnnpack, xnnpack_int8"):
        backend("onnx")
    with pytest.raises(UnknownBackend, match="unknown program format 'onnx'; known formats: pte, ptl"):
        runtime_of_format("onnx")
