"""The configuration of the reduced-size export that the `small_export` fixture (tests/conftest.py) builds."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from export.config import ExportConfig


def small_export_config(out_dir: Path) -> ExportConfig:
    """VGG-16 at width/16 and 32x32 input: conv5_1..conv5_3 simple and reduced (default k), conv5_1 noisy
    (variance 0.5), in xnnpack, portable and lite; no cloud programs (tests that need them export their own)."""
    from export.config import ExportConfig

    return ExportConfig(
        out_dir=out_dir, width_divisor=16, input_size=32,
        splits=("conv5_1", "conv5_2", "conv5_3"),
        backends=("xnnpack", "portable", "lite"), cloud_backends=(),
        noise_variance=0.5, noise_splits=("conv5_1",),
        calibration_count=16,
    )
