"""Python twin of the runner's input generator and output checksum.

`--input random --seed S` in splitbench_runner fills every float32 input, in order,
from one splitmix64 stream seeded with S; each element is (z >> 40) * 2**-24, so
it is an exact float32 in [0, 1). `checksum` is FNV-1a 64 over the raw output bytes.
Both functions here give bit-identical results, so the host can rebuild the
runner's input and compare its output with ExecuTorch's Python runtime.

Command line: python input_gen.py --shape 1,3,224,224 --seed 0 --out input.raw
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def splitmix64(seed: int, count: int, start: int = 0) -> np.ndarray:
    """Outputs start .. start+count-1 of the splitmix64 stream seeded with `seed` (uint64)."""
    steps = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + steps * _GOLDEN_GAMMA
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def random_input(shape: tuple[int, ...], seed: int = 0, start: int = 0) -> np.ndarray:
    """The float32 tensor the runner feeds for `--input random --seed seed`.

    `start` is the number of values already drawn (for a second input of the same program).
    """
    count = int(np.prod(shape, dtype=np.int64))
    bits = splitmix64(seed, count, start) >> np.uint64(40)
    return (bits.astype(np.float32) * np.float32(2.0**-24)).reshape(shape)


def checksum(raw: bytes) -> str:
    """FNV-1a 64 of `raw` as 16 lowercase hex digits, as the runner reports it."""
    value = _FNV_OFFSET
    for byte in raw:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shape expects comma-separated integers, got {text!r}") from None
    if not shape or any(dim <= 0 for dim in shape):
        raise argparse.ArgumentTypeError(f"--shape dimensions must be positive, got {text!r}")
    return shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the runner's random float32 input as a raw file.")
    parser.add_argument("--shape", type=_parse_shape, required=True, help="e.g. 1,3,224,224")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="raw float32 file to write")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error("--seed must be non-negative")
    random_input(args.shape, args.seed).tofile(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
