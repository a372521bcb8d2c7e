"""The paper's seven configurations in its order; backends are ordered by formats.backends' table."""

from __future__ import annotations

from collections.abc import Iterable

from formats.backends import backend_sort_key as backend_sort_key  # re-exported: sort keys live together here
from formats.backends import backends_in_order

PAPER_ARCH = "vgg16"  # the paper's model; its seven configurations are VGG-16's
FULL_CONFIGURATION = "full"
PAPER_CONFIGURATIONS: tuple[str, ...] = (
    FULL_CONFIGURATION,
    "conv5_1_simple", "conv5_2_simple", "conv5_3_simple",
    "conv5_1_reduced", "conv5_2_reduced", "conv5_3_reduced",
)
PAPER_SPLIT_CONFIGURATIONS: tuple[str, ...] = PAPER_CONFIGURATIONS[1:]

def configuration_sort_key(configuration: str) -> tuple[int, str]:
    """Paper configurations first, in the paper's order; any other after them, by name."""
    if configuration in PAPER_CONFIGURATIONS:
        return (PAPER_CONFIGURATIONS.index(configuration), "")
    return (len(PAPER_CONFIGURATIONS), configuration)


def order_configurations(configurations: Iterable[str]) -> list[str]:
    return sorted(set(configurations), key=configuration_sort_key)


def order_backends(backends: Iterable[str]) -> list[str]:
    """The backends in the order of formats.backends.BACKEND_TABLE, any other after them by name."""
    return backends_in_order(backends)
