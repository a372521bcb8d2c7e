"""The paper's seven configurations in its order, and the order backends are shown in everywhere."""

from __future__ import annotations

from collections.abc import Iterable

PAPER_ARCH = "vgg16"  # the paper's model; its seven configurations are VGG-16's
FULL_CONFIGURATION = "full"
PAPER_CONFIGURATIONS: tuple[str, ...] = (
    FULL_CONFIGURATION,
    "conv5_1_simple", "conv5_2_simple", "conv5_3_simple",
    "conv5_1_reduced", "conv5_2_reduced", "conv5_3_reduced",
)
PAPER_SPLIT_CONFIGURATIONS: tuple[str, ...] = PAPER_CONFIGURATIONS[1:]

# A backend is how a program runs (xnnpack, portable, lite, ...); a format is its file kind (pte, ptl).
BACKEND_ORDER: tuple[str, ...] = ("xnnpack", "xnnpack_int8", "portable", "lite")
PROGRAM_FORMATS: tuple[str, ...] = ("pte", "ptl")
LITE_FORMAT = "ptl"  # TorchScript Lite programs: they need the Lite build of the runner


def configuration_sort_key(configuration: str) -> tuple[int, str]:
    """Paper configurations first, in the paper's order; any other after them, by name."""
    if configuration in PAPER_CONFIGURATIONS:
        return (PAPER_CONFIGURATIONS.index(configuration), "")
    return (len(PAPER_CONFIGURATIONS), configuration)


def backend_sort_key(backend: str) -> tuple[int, str]:
    if backend in BACKEND_ORDER:
        return (BACKEND_ORDER.index(backend), "")
    return (len(BACKEND_ORDER), backend)


def order_configurations(configurations: Iterable[str]) -> list[str]:
    return sorted(set(configurations), key=configuration_sort_key)


def order_backends(backends: Iterable[str]) -> list[str]:
    return sorted(set(backends), key=backend_sort_key)
