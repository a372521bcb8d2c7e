"""VGG-16's split points in network order (Caffe names, as export/ names them) and the order split
configurations are shown in by the split study: by where the cut is, then simple, reduced, noisy."""

from __future__ import annotations

VGG16_SPLIT_POINTS: tuple[str, ...] = (
    "conv1_1", "conv1_2", "pool1",
    "conv2_1", "conv2_2", "pool2",
    "conv3_1", "conv3_2", "conv3_3", "pool3",
    "conv4_1", "conv4_2", "conv4_3", "pool4",
    "conv5_1", "conv5_2", "conv5_3", "pool5",
)
PAPER_SPLIT_POINTS: tuple[str, ...] = ("conv5_1", "conv5_2", "conv5_3")
VARIANT_ORDER: tuple[str, ...] = ("simple", "reduced", "reduced_noisy")


def split_of(configuration: str) -> tuple[str | None, str | None]:
    """(split point, variant) of `<split>_<variant>`; (None, None) for anything else (full, cloud_only)."""
    for split in VGG16_SPLIT_POINTS:
        prefix = split + "_"
        if configuration.startswith(prefix) and configuration[len(prefix):] in VARIANT_ORDER:
            return split, configuration[len(prefix):]
    return None, None


def split_configuration_key(configuration: str) -> tuple[int, int, str]:
    """Network order of the cut, then variant; configurations that are not splits last, by name."""
    split, variant = split_of(configuration)
    if split is None:
        return (len(VGG16_SPLIT_POINTS), 0, configuration)
    return (VGG16_SPLIT_POINTS.index(split), VARIANT_ORDER.index(variant), configuration)
