"""The models (torchvision layouts) with a configurable head, VGG-16's optional width reduction, and weights."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torchvision.models import vgg16
from torchvision.models.vgg import VGG, cfgs, make_layers

from export.errors import WeightsError

# Random weights of models with BatchNorm: running statistics set from this many synthetic images of the seed.
BATCHNORM_IMAGES = 16
BATCHNORM_BATCH = 8


@dataclass(frozen=True)
class ModelShape:
    """The architecture knobs: classes in the head, input side in pixels, and the channel divisor."""

    num_classes: int = 2
    input_size: int = 224
    width_divisor: int = 1

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (1, 3, self.input_size, self.input_size)


def build_vgg16(shape: ModelShape) -> nn.Module:
    """A VGG-16 in eval mode with torchvision's layer names; channels and hidden size divided by `width_divisor`.

    At `width_divisor` 1 this is torchvision.models.vgg16 itself (no pretrained download).

    The weights are torchvision's initialisation drawn from the current torch RNG state
    (call `torch.manual_seed` first for deterministic weights).
    """
    divisor = shape.width_divisor
    if divisor == 1:
        return vgg16(weights=None, num_classes=shape.num_classes).eval()
    layer_cfg = [v if v == "M" else v // divisor for v in cfgs["D"]]
    model = VGG(make_layers(layer_cfg, batch_norm=False), num_classes=shape.num_classes, init_weights=False)
    last_channels = 512 // divisor
    hidden = 4096 // divisor
    model.classifier = nn.Sequential(
        nn.Linear(last_channels * 7 * 7, hidden),
        nn.ReLU(True),
        nn.Dropout(),
        nn.Linear(hidden, hidden),
        nn.ReLU(True),
        nn.Dropout(),
        nn.Linear(hidden, shape.num_classes),
    )
    _init_like_torchvision(model)
    return model.eval()


def _init_like_torchvision(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.constant_(module.bias, 0)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.constant_(module.bias, 0)


def seeded_vgg16(shape: ModelShape, seed: int) -> nn.Module:
    """A VGG-16 whose weights depend only on `seed` (and the torch version)."""
    torch.manual_seed(seed)
    return build_vgg16(shape)


def set_batchnorm_statistics(model: nn.Module, input_size: int, seed: int) -> None:
    """Set every BatchNorm's running mean and variance from BATCHNORM_IMAGES synthetic images of `seed`.

    torchvision initialises them to 0 and 1, which at random weights is far from the real statistics: MobileNet
    and EfficientNet activations then shrink to about 1e-10 at the output, a degenerate model that int8 rounds to
    zero. With measured statistics every BatchNorm normalises, as in a trained network. Deterministic in `seed`
    and independent of --calibration-dir; models without BatchNorm (VGG-16) are untouched.
    """
    from export.calibration import synthetic_calibration

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    images = synthetic_calibration(BATCHNORM_IMAGES, input_size, seed).images
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
        norm.train()
    with torch.no_grad():
        for start in range(0, images.shape[0], BATCHNORM_BATCH):
            model(images[start:start + BATCHNORM_BATCH])
    for norm in norms:
        norm.momentum = 0.1
    model.eval()


def load_weights(model: nn.Module, path: Path, arch: str = "vgg16") -> None:
    """Load a torchvision-format state dict into `model`; any mismatch raises WeightsError naming the first bad key."""
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    if missing:
        raise WeightsError(f"weights file {path} lacks key {missing[0]!r} ({len(missing)} missing); "
                           f"pass a torchvision {arch} state dict for this model shape")
    unexpected = [key for key in state if key not in expected]
    if unexpected:
        raise WeightsError(f"weights file {path} has unexpected key {unexpected[0]!r} ({len(unexpected)} unexpected); "
                           f"pass a torchvision {arch} state dict (no wrapper prefix"
                           + (", no batch norm)" if arch == "vgg16" else ")"))
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise WeightsError(f"weights file {path}: key {key!r} has shape {list(state[key].shape)}, the model "
                               f"needs {list(tensor.shape)}; check --num-classes and --width-divisor")
    model.load_state_dict(state)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a state dict saved with torch.save; raise WeightsError if it is missing or not a tensor mapping."""
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist; pass the path of a torch.save'd state dict")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt files
        raise WeightsError(f"weights file {path} cannot be read by torch.load ({type(error).__name__}); "
                           "pass a torch.save'd state dict") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file {path} is not a state dict (name -> tensor); save model.state_dict()")
    return state


