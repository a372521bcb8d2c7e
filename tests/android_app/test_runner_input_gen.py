"""The Python twin of the runner's random input and output checksum (android_app/input_gen.py)."""

import numpy as np
import pytest


def test_splitmix64_matches_the_reference_stream(input_gen):
    # Published first outputs of splitmix64 seeded with 0.
    values = input_gen.splitmix64(0, 3)
    assert [int(v) for v in values] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_splitmix64_start_continues_the_same_stream(input_gen):
    whole = input_gen.splitmix64(42, 10)
    tail = input_gen.splitmix64(42, 4, start=6)
    assert np.array_equal(whole[6:], tail)


def test_random_input_is_float32_in_unit_interval_and_deterministic(input_gen):
    first = input_gen.random_input((2, 3, 8, 8), seed=7)
    again = input_gen.random_input((2, 3, 8, 8), seed=7)
    other = input_gen.random_input((2, 3, 8, 8), seed=8)
    assert first.dtype == np.float32 and first.shape == (2, 3, 8, 8)
    assert first.min() >= 0.0 and first.max() < 1.0
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_random_input_values_are_the_top_24_bits(input_gen):
    bits = input_gen.splitmix64(5, 4) >> np.uint64(40)
    assert np.array_equal(input_gen.random_input((4,), seed=5), bits.astype(np.float32) / 2**24)


def test_checksum_is_fnv1a64(input_gen):
    assert input_gen.checksum(b"") == "cbf29ce484222325"
    assert input_gen.checksum(b"a") == "af63dc4c8601ec8c"
    assert input_gen.checksum(b"foobar") == "85944171f73967e8"


def test_cli_writes_the_raw_file(input_gen, tmp_path):
    out = tmp_path / "input.raw"
    assert input_gen.main(["--shape", "1,3,4,4", "--seed", "3", "--out", str(out)]) == 0
    assert out.read_bytes() == input_gen.random_input((1, 3, 4, 4), seed=3).tobytes()


def test_cli_refuses_a_bad_shape(input_gen, tmp_path):
    with pytest.raises(SystemExit):
        input_gen.main(["--shape", "1,x", "--out", str(tmp_path / "x.raw")])
