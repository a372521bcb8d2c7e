"""The bytes a tensor takes on the way to the cloud, as float32, float16 and int8 (per-tensor symmetric,
scale = max|x| / 127 measured on the tensor itself, the scale sent along as one float32), and the tensor the
cloud gets back from each encoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT8_LEVELS = 127
SCALE_BYTES = 4
ENCODINGS = ("float32", "float16", "int8")


@dataclass(frozen=True)
class EncodedSizes:
    float32_bytes: int
    float16_bytes: int
    int8_bytes: int
    int8_scale: float
    max_abs: float


def int8_scale(values: np.ndarray) -> float:
    """max|x| / 127; 1.0 for an all-zero tensor (any scale encodes it exactly)."""
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    return peak / INT8_LEVELS if peak > 0 and np.isfinite(peak) else 1.0


def encoded_sizes(values: np.ndarray) -> EncodedSizes:
    count = int(values.size)
    peak = float(np.max(np.abs(values))) if count else 0.0
    return EncodedSizes(float32_bytes=4 * count, float16_bytes=2 * count, int8_bytes=count + SCALE_BYTES,
                        int8_scale=int8_scale(values), max_abs=peak)


def round_trip(values: np.ndarray, encoding: str) -> np.ndarray:
    """`values` as the cloud sees them after `encoding` (float32 back out)."""
    values = np.asarray(values, dtype=np.float32)
    if encoding == "float32":
        return values.copy()
    if encoding == "float16":
        with np.errstate(over="ignore"):  # out-of-range values become inf, as a float16 sender would send them
            return values.astype(np.float16).astype(np.float32)
    if encoding == "int8":
        scale = np.float32(int8_scale(values))
        quantised = np.clip(np.rint(values / scale), -INT8_LEVELS, INT8_LEVELS).astype(np.int8)
        return quantised.astype(np.float32) * scale
    raise ValueError(f"unknown encoding {encoding!r}; one of {', '.join(ENCODINGS)}")
