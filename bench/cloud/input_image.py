"""The image every split configuration is fed in the cloud stage: a real photograph shipped with matplotlib
(sample_data/grace_hopper.jpg), so that the JPEG size of the cloud-only baseline is that of a natural image.

Resized (shorter side to round(size * 256 / 224)) and centre-cropped to the model's input size as in ImageNet
evaluation, kept as 8-bit RGB (the pixels both encodings describe), then as the raw float32 tensor the model
takes: ImageNet-normalised, NCHW, little-endian."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import SettingsError

IMAGE_NAME = "grace_hopper.jpg"
IMAGE_DESCRIPTION = ("matplotlib sample_data/grace_hopper.jpg (a photograph), resized to shorter side "
                     "round(size*256/224), centre-cropped, ImageNet-normalised float32 NCHW")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
JPEG_QUALITY = 90


@dataclass(frozen=True)
class InputImage:
    pixels: np.ndarray        # (3, size, size) uint8
    tensor: np.ndarray        # (1, 3, size, size) float32, normalised
    jpeg: bytes               # torchvision.io.encode_jpeg of `pixels` at `jpeg_quality`
    jpeg_quality: int
    description: str

    @property
    def raw_bytes(self) -> bytes:
        return self.tensor.astype("<f4").tobytes()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw_bytes).hexdigest()

    def describe(self) -> dict:
        return {"image": self.description, "sha256": self.sha256, "size_bytes": len(self.raw_bytes),
                "shape": list(self.tensor.shape)}


def sample_image_path() -> Path:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / IMAGE_NAME
    if not path.is_file():
        raise SettingsError(f"matplotlib's sample image {path} is missing; reinstall matplotlib (scripts/setup.sh)")
    return path


def load_input_image(size: int, jpeg_quality: int = JPEG_QUALITY) -> InputImage:
    """The photograph at `size` x `size`: its 8-bit pixels, the model's float32 input and its JPEG."""
    import torch
    from PIL import Image
    from torchvision import transforms
    from torchvision.io import encode_jpeg

    if not 1 <= jpeg_quality <= 100:
        raise SettingsError(f"JPEG quality must be 1..100, got {jpeg_quality}")
    with Image.open(sample_image_path()) as image:
        crop = transforms.Compose([transforms.Resize(round(size * 256 / 224)), transforms.CenterCrop(size)])(
            image.convert("RGB"))
    pixels = torch.from_numpy(np.asarray(crop, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    tensor = ((pixels.float() / 255.0 - mean) / std).unsqueeze(0).contiguous()
    jpeg = bytes(encode_jpeg(pixels, quality=jpeg_quality).numpy().tobytes())
    return InputImage(pixels=pixels.numpy(), tensor=tensor.numpy().astype(np.float32), jpeg=jpeg,
                      jpeg_quality=jpeg_quality, description=f"{IMAGE_DESCRIPTION}, {size}x{size}")
