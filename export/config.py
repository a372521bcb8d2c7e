"""The export configuration (what to export, at which size, with which backends) and parsers for its options.

A *format* is the kind of file written (`pte`, `ptl`); a *backend* is what runs it (`xnnpack`, `portable`,
`lite`). Configurations list backends; the format follows from the backend (formats.backends' table).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from export.architectures import DEFAULT_ARCH, check_arch_split_point, get_architecture
from export.errors import ConfigError
from export.model_factory import parse_factory
from formats.backends import BACKEND_TABLE, DEFAULT_EXPORT_BACKENDS

BACKENDS: tuple[str, ...] = DEFAULT_EXPORT_BACKENDS  # the ones exported when --backends is not given
INT8_BACKENDS: tuple[str, ...] = tuple(row.name for row in BACKEND_TABLE if row.dtype == "int8")  # calibrated
ALL_BACKENDS: tuple[str, ...] = BACKENDS + tuple(row.name for row in BACKEND_TABLE if row.name not in BACKENDS)
DEFAULT_K_BY_SPLIT: dict[str, int] = dict(get_architecture("vgg16").default_k)  # VGG-16's; see Architecture
VGG16_CONV_CHANNELS: tuple[int, ...] = (64, 128, 256, 512)
VGG16_CLASSIFIER_HIDDEN = 4096
DEVICE_WEIGHTS: tuple[str, ...] = ("shared", "embedded")  # ExportConfig.device_weights
MIN_INPUT_SIZE = 32  # five 2x2 poolings (stride-2 stages) need at least 32 pixels


@dataclass(frozen=True)
class ExportConfig:
    """Everything that decides which programs are exported and what they contain.

    `arch` names the model (export.architectures); `splits` defaults to its three default split points.
    `k_by_split` overrides the architecture's default PCA size per split point.
    `width_divisor` narrows VGG-16 only; small exports of the other architectures use a small `input_size`.
    `noise_variance` adds `<split>_reduced_noisy` configurations for `noise_splits` (all splits when None).
    `backends` lists the backends of the full and client programs; `cloud_backends` those the cloud remainders
    are written in (none by default: only a study that runs them asks for them).
    `device_weights`: "shared" keeps the weights of full and client programs whose backend can (fp32 XNNPACK) in the
    folder's one data file, like the cloud remainders' (export.shared_weights); "embedded" keeps them inside each
    program (for a runner build without `--data`, or to measure a self-contained program's load).
    `program_store` is the folder of programs shared between export folders (export.cache.ProgramStore; None:
    none); `workers` the number of export processes (None: as many as the cores and memory allow).
    """

    out_dir: Path
    num_classes: int | None = 2  # None: a --model factory's own head
    input_size: int = 224
    width_divisor: int = 1
    seed: int = 0
    weights_path: Path | None = None
    arch: str = DEFAULT_ARCH
    splits: tuple[str, ...] | None = None  # None: the architecture's defaults (see split_points)
    include_full: bool = True
    include_reduced: bool = True
    k_by_split: Mapping[str, int] = field(default_factory=dict)
    noise_variance: float | None = None
    noise_splits: tuple[str, ...] | None = None
    backends: tuple[str, ...] = BACKENDS
    cloud_backends: tuple[str, ...] = ()
    device_weights: str = "shared"
    calibration_dir: Path | None = None
    calibration_count: int = 64
    calibration_batch_size: int = 8
    accuracy_count: int = 16
    program_store: Path | None = None
    workers: int | None = None
    calibration_photos: bool = False  # calibrate on the real calibration photos, measure on the evaluation ones
    model_factory: str | None = None  # MODULE:CALLABLE of a model brought by the user (export.model_factory)

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        if self.weights_path is not None:
            object.__setattr__(self, "weights_path", Path(self.weights_path))
        if self.calibration_dir is not None:
            object.__setattr__(self, "calibration_dir", Path(self.calibration_dir))
        if self.program_store is not None:
            object.__setattr__(self, "program_store", Path(self.program_store))
        object.__setattr__(self, "k_by_split", dict(self.k_by_split))
        if self.model_factory is not None:
            parse_factory(self.model_factory)
            if self.splits is None:
                object.__setattr__(self, "splits", ())  # the graph's defaults, chosen once it is built
        elif self.splits is None:
            object.__setattr__(self, "splits", get_architecture(self.arch).default_splits)
        for name in ("splits", "backends", "cloud_backends"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.noise_splits is not None:
            object.__setattr__(self, "noise_splits", tuple(self.noise_splits))
        self._check_sizes()
        self._check_splits()
        self._check_backends()
        self._check_noise()

    def _check_sizes(self) -> None:
        if self.num_classes is None and self.model_factory is None:
            raise ConfigError("num_classes is needed for a built-in architecture; pass --num-classes N")
        if self.num_classes is not None and self.num_classes < 1:
            raise ConfigError(f"num_classes must be at least 1, got {self.num_classes}")
        if self.input_size < MIN_INPUT_SIZE:
            raise ConfigError(f"input_size must be at least {MIN_INPUT_SIZE} pixels, got {self.input_size}")
        if (self.arch != "vgg16" or self.model_factory) and self.width_divisor != 1:
            raise ConfigError(f"width_divisor narrows vgg16 only, got {self.width_divisor} for {self.arch}; "
                              "for a small export of it pass a small --input-size such as 64")
        if self.width_divisor < 1 or any(c % self.width_divisor for c in VGG16_CONV_CHANNELS):
            raise ConfigError(f"width_divisor must divide 64 (e.g. 1, 2, 4, 8, 16), got {self.width_divisor}")
        if self.calibration_photos and self.calibration_dir is not None:
            raise ConfigError("--calibration-photos and --calibration-dir both given; pass one")
        if self.calibration_count < 2:
            raise ConfigError(f"calibration_count must be at least 2, got {self.calibration_count}")
        if self.accuracy_count < 1:
            raise ConfigError(f"accuracy_count must be at least 1, got {self.accuracy_count}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        if self.calibration_batch_size < 1:
            raise ConfigError(f"calibration_batch_size must be at least 1, got {self.calibration_batch_size}")

    def _check_splits(self) -> None:
        if len(set(self.split_points)) != len(self.split_points):
            raise ConfigError(f"split points listed twice: {', '.join(self.split_points)}")
        if self.model_factory is not None:
            return  # checked against the model's graph when it is built (export.model_source)
        for split in self.split_points:
            check_arch_split_point(self.arch, split)
        for split, k in self.k_by_split.items():
            check_arch_split_point(self.arch, split)
            if not isinstance(k, int) or k < 1:
                raise ConfigError(f"k for {split} must be a positive integer, got {k!r}")
        if self.include_reduced:
            for split in self.split_points:
                self.k_for(split)

    def _check_backends(self) -> None:
        for backend in (*self.backends, *self.cloud_backends):
            if backend not in ALL_BACKENDS:
                raise ConfigError(f"unknown backend {backend!r}; valid backends: {', '.join(ALL_BACKENDS)}")
        if not self.backends:
            raise ConfigError(f"no backend given; choose from: {', '.join(ALL_BACKENDS)}")
        if self.device_weights not in DEVICE_WEIGHTS:
            raise ConfigError(f"device weights {self.device_weights!r} is neither of {', '.join(DEVICE_WEIGHTS)}; "
                              "pass --device-weights shared or embedded")

    def _check_noise(self) -> None:
        if self.noise_variance is None:
            return
        if not math.isfinite(self.noise_variance) or self.noise_variance <= 0:
            raise ConfigError(f"noise variance must be a positive number, got {self.noise_variance}")
        if not self.include_reduced:
            raise ConfigError("noisy configurations need the reduced ones; do not disable reduction with noise")
        for split in self.noisy_splits():
            if split not in self.split_points:
                raise ConfigError(f"noise split {split!r} is not among the exported splits ({', '.join(self.split_points)})")

    @property
    def model_label(self) -> str:
        """The model's name in manifests: the architecture, or the --model factory's name."""
        return parse_factory(self.model_factory).label if self.model_factory else self.arch

    def quantizes(self) -> bool:
        """Whether some program is int8 (and so needs the calibration and held-out images)."""
        return any(backend in INT8_BACKENDS for backend in (*self.backends, *self.cloud_backends))

    def k_for(self, split: str) -> int:
        """The PCA size for `split`: the override if given, else the architecture's default (the paper's for VGG)."""
        if split in self.k_by_split:
            return self.k_by_split[split]
        default_k = {} if self.model_factory else get_architecture(self.arch).default_k
        if split in default_k:
            return default_k[split]
        raise ConfigError(f"no default k for split point {split!r}; pass --k {split}=N")

    @property
    def split_points(self) -> tuple[str, ...]:
        """The split points to export: `splits` as __post_init__ resolved it (the architecture's defaults for None;
        empty for a --model until its graph's defaults are chosen, export.model_source)."""
        return self.splits if self.splits is not None else ()

    def noisy_splits(self) -> tuple[str, ...]:
        """Split points that get a `<split>_reduced_noisy` configuration (none without a noise variance)."""
        if self.noise_variance is None:
            return ()
        return self.split_points if self.noise_splits is None else self.noise_splits


def parse_name_list(text: str, option: str) -> tuple[str, ...]:
    """Split a comma-separated option value into names; an empty list is an error naming the option."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise ConfigError(f"{option} needs at least one name, e.g. {option} conv5_1,conv5_2")
    return names


def parse_k_option(text: str, splits: tuple[str, ...], arch: str = DEFAULT_ARCH) -> dict[str, int]:
    """Parse `--k`: one number for every split (`4`) or `split=k` pairs (`conv5_1=8,conv5_3=4`)."""
    text = text.strip()
    try:
        if "=" not in text:
            return {split: int(text) for split in splits}
        pairs = {}
        for item in parse_name_list(text, "--k"):
            split, _, value = item.partition("=")
            pairs[check_arch_split_point(arch, split.strip())] = int(value)
        return pairs
    except ValueError:
        raise ConfigError("--k must be a number or split=number pairs like conv5_1=8,conv5_2=6; "
                          f"got {text!r}") from None
