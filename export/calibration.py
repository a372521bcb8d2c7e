"""Calibration images (for the PCA fit and int8 calibration) and held-out images (for the int8 accuracy figures):
a folder of images, or a deterministic synthetic set."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torchvision import transforms

from export.errors import CalibrationError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm")


@dataclass(frozen=True)
class CalibrationSet:
    """Normalised images (N, 3, H, W), a fingerprint that changes whenever the images would change, and where they
    come from (`dir:<folder>[+<skipped>]` or `synthetic:seed=<n>:size=<px>`)."""

    images: torch.Tensor
    fingerprint: str
    source: str = ""

    @property
    def count(self) -> int:
        return int(self.images.shape[0])

    def tensor_sha256(self) -> str:
        """Hex sha256 of the normalised float32 images as the programs see them."""
        return hashlib.sha256(self.images.to(torch.float32).contiguous().numpy().tobytes()).hexdigest()


def imagenet_normalise(images: torch.Tensor) -> torch.Tensor:
    """Map [0, 1] RGB images to ImageNet's normalisation."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images - mean) / std


def synthetic_calibration(count: int, input_size: int, seed: int) -> CalibrationSet:
    """`count` deterministic images mixing gradients, stripes, blobs and noise (no data needed)."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.stack([_synthetic_image(input_size, generator) for _ in range(count)])
    return CalibrationSet(imagenet_normalise(images), f"synthetic:seed={seed}:count={count}:size={input_size}",
                          f"synthetic:seed={seed}:size={input_size}")


def _synthetic_image(size: int, generator: torch.Generator) -> torch.Tensor:
    def uniform(low: float, high: float, shape: tuple[int, ...] = ()) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=generator)

    axis = torch.linspace(0.0, 1.0, size)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    angle = uniform(0.0, math.pi)
    along = xs * torch.cos(angle) + ys * torch.sin(angle)
    gradient = uniform(0.0, 1.0, (3, 1, 1)) * along
    stripes = 0.5 + 0.5 * torch.sin(2 * math.pi * uniform(1.0, 12.0) * along + uniform(0.0, 2 * math.pi))
    stripes = uniform(0.0, 1.0, (3, 1, 1)) * stripes
    blobs = torch.zeros(3, size, size)
    for _ in range(3):
        cy, cx, radius = uniform(0.0, 1.0), uniform(0.0, 1.0), uniform(0.05, 0.3)
        blob = torch.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * radius**2))
        blobs += uniform(-0.5, 0.5, (3, 1, 1)) * blob
    noise = 0.1 * torch.randn((3, size, size), generator=generator)
    return (0.3 * gradient + 0.4 * stripes + blobs + noise + 0.2).clamp(0.0, 1.0)


def image_paths(folder: Path) -> list[Path]:
    """The image files of `folder`, sorted by name; CalibrationError if the folder does not exist."""
    if not folder.is_dir():
        raise CalibrationError(f"calibration folder {folder} does not exist; pass a folder of images or omit "
                               "--calibration-dir to use synthetic images")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def load_calibration_dir(folder: Path, count: int, input_size: int, skip: int = 0) -> CalibrationSet:
    """Images `skip` .. `skip + count - 1` of `folder` (sorted by name), resized and centre-cropped like ImageNet
    evaluation."""
    paths = image_paths(folder)[skip:skip + count]
    if not paths:
        raise CalibrationError(f"calibration folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})"
                               + (f" after the first {skip}" if skip else ""))
    preprocess = transforms.Compose([
        transforms.Resize(round(input_size * 256 / 224)),
        transforms.CenterCrop(input_size),
        transforms.ToTensor(),
    ])
    digest = hashlib.sha256(f"size={input_size}".encode())
    images = []
    for path in paths:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
        images.append(preprocess(_open_rgb(path)))
    fingerprint = f"dir:sha256={digest.hexdigest()}:count={len(paths)}" + (f":skip={skip}" if skip else "")
    source = f"dir:{folder}" + (f"+{skip}" if skip else "")
    return CalibrationSet(imagenet_normalise(torch.stack(images)), fingerprint, source)


def _open_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise CalibrationError(f"calibration image {path} cannot be decoded ({error}); "
                               "remove it or replace it") from error
