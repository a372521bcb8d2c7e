"""The harness's real photographs: the photos that ship inside scikit-image (`skimage/data`) and matplotlib
(`mpl-data/sample_data`), read from the installed packages (never downloaded), with ImageNet preprocessing.

The split is fixed and stated here. *Evaluation* photos show ImageNet objects (a cat, a cup, a rocket, a
motorcycle, an astronaut, a person in uniform); int8 programs are never calibrated on them. *Calibration* photos
are the other natural and scientific pictures of those packages (a second view of the motorcycle, a galaxy
field, a retina, the cameraman, the moon, coins, grass, gravel, bricks). A few hundred evaluation inputs come
from seeded random resized crops and horizontal flips of the evaluation photos (`evaluation_crops`), the
calibration set likewise from the calibration photos.

The ImageNet class names come from torchvision's weight metadata (no download).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torchvision import transforms

from export.calibration import CalibrationSet, imagenet_normalise
from export.errors import CalibrationError

EVALUATION_PHOTOS: tuple[tuple[str, str], ...] = (
    ("skimage", "chelsea.png"), ("skimage", "coffee.png"), ("skimage", "rocket.jpg"),
    ("skimage", "motorcycle_left.png"), ("skimage", "astronaut.png"), ("matplotlib", "grace_hopper.jpg"),
)
CALIBRATION_PHOTOS: tuple[tuple[str, str], ...] = (
    ("skimage", "motorcycle_right.png"), ("skimage", "hubble_deep_field.jpg"), ("skimage", "retina.jpg"),
    ("skimage", "camera.png"), ("skimage", "moon.png"), ("skimage", "coins.png"), ("skimage", "grass.png"),
    ("skimage", "gravel.png"), ("skimage", "brick.png"),
)
CROP_SCALE = (0.35, 1.0)  # the area fraction of a random resized crop, as in ImageNet training (0.08) but milder
CROPS_SEED = 20261206


@dataclass(frozen=True)
class Photo:
    """One photograph: a short name (file stem), the package it ships in, and its path on this machine."""

    name: str
    package: str
    path: Path


def photo_path(package: str, file_name: str) -> Path:
    """The installed file; CalibrationError naming the package to reinstall if it is missing."""
    if package == "skimage":
        import skimage

        folder = Path(skimage.__file__).parent / "data"
    elif package == "matplotlib":
        import matplotlib

        folder = Path(matplotlib.get_data_path()) / "sample_data"
    else:
        raise CalibrationError(f"unknown photo package {package!r}")
    path = folder / file_name
    if not path.is_file():
        raise CalibrationError(f"photo {path} is missing; reinstall {package} (scripts/setup.sh installs the "
                               "'trained' extra)")
    return path


def evaluation_photos() -> list[Photo]:
    return [Photo(Path(name).stem, package, photo_path(package, name)) for package, name in EVALUATION_PHOTOS]


def calibration_photos() -> list[Photo]:
    return [Photo(Path(name).stem, package, photo_path(package, name)) for package, name in CALIBRATION_PHOTOS]


def open_rgb(photo: Photo) -> Image.Image:
    with Image.open(photo.path) as image:
        return image.convert("RGB")


def centre_crop(photo: Photo, input_size: int) -> torch.Tensor:
    """ImageNet evaluation preprocessing: shorter side to round(size*256/224), centre crop, normalise (3, H, W)."""
    preprocess = transforms.Compose([transforms.Resize(round(input_size * 256 / 224)),
                                     transforms.CenterCrop(input_size), transforms.ToTensor()])
    return imagenet_normalise(preprocess(open_rgb(photo)).unsqueeze(0))[0]


def random_crops(photos: list[Photo], per_photo: int, input_size: int, seed: int) -> tuple[torch.Tensor, list[str]]:
    """`per_photo` seeded random resized crops (scale CROP_SCALE), half of them flipped, of every photo, normalised;
    and the photo name of each. The same seed gives the same crops."""
    images, names = [], []
    for photo_index, photo in enumerate(photos):
        picture = open_rgb(photo)
        for index in range(per_photo):
            with torch.random.fork_rng():
                torch.manual_seed(seed * 1_000_003 + photo_index * 10_007 + index)
                crop = transforms.RandomResizedCrop(input_size, scale=CROP_SCALE, antialias=True)(picture)
            if index % 2:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            images.append(transforms.ToTensor()(crop))
            names.append(photo.name)
    return imagenet_normalise(torch.stack(images)), names


def _fingerprint(kind: str, photos: list[Photo], extra: str) -> str:
    digest = hashlib.sha256(f"{kind}:{extra}".encode())
    for photo in photos:
        digest.update(photo.name.encode() + b"\0" + hashlib.sha256(photo.path.read_bytes()).digest())
    return f"photos:{kind}:sha256={digest.hexdigest()}:{extra}"


def calibration_set(count: int, input_size: int, seed: int = CROPS_SEED) -> CalibrationSet:
    """`count` calibration inputs: the calibration photos' centre crops, then their seeded random crops."""
    photos = calibration_photos()
    centres = torch.stack([centre_crop(photo, input_size) for photo in photos])
    per_photo = max(0, -(-(count - len(photos)) // len(photos)))
    crops = random_crops(photos, per_photo, input_size, seed)[0] if per_photo else centres[:0]
    images = torch.cat([centres, crops])[:count]
    return CalibrationSet(images, _fingerprint("calibration", photos, f"count={count}:size={input_size}:seed={seed}"),
                          f"photos:calibration:{len(photos)} photos")


def evaluation_set(input_size: int) -> tuple[torch.Tensor, list[str]]:
    """The evaluation photos' centre crops (N, 3, H, W) and their names."""
    photos = evaluation_photos()
    return torch.stack([centre_crop(photo, input_size) for photo in photos]), [photo.name for photo in photos]


def heldout_set(input_size: int) -> CalibrationSet:
    """The evaluation photos' centre crops as the export's held-out set (int8 accuracy on real photos)."""
    photos = evaluation_photos()
    images = torch.stack([centre_crop(photo, input_size) for photo in photos])
    return CalibrationSet(images, _fingerprint("evaluation", photos, f"size={input_size}"),
                          f"photos:evaluation:{len(photos)} photos")


def evaluation_crops(per_photo: int, input_size: int, seed: int = CROPS_SEED) -> tuple[torch.Tensor, list[str]]:
    """Seeded crops and flips of the evaluation photos: `per_photo` x 6 real inputs."""
    return random_crops(evaluation_photos(), per_photo, input_size, seed)


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's weight metadata (shipped in the wheel)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
