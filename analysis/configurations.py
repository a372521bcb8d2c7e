"""The paper's configuration order and the display names used in tables and figures."""

PAPER_CONFIGURATIONS: tuple[str, ...] = (
    "full",
    "conv5_1_simple",
    "conv5_2_simple",
    "conv5_3_simple",
    "conv5_1_reduced",
    "conv5_2_reduced",
    "conv5_3_reduced",
)

PAPER_SPLIT_CONFIGURATIONS: tuple[str, ...] = PAPER_CONFIGURATIONS[1:]

FULL_CONFIGURATION = "full"

BACKEND_ORDER: tuple[str, ...] = ("xnnpack", "portable", "lite")


def configuration_sort_key(configuration: str) -> tuple[int, str]:
    """Paper configurations first in the paper's order, any other configuration after them by name."""
    if configuration in PAPER_CONFIGURATIONS:
        return (PAPER_CONFIGURATIONS.index(configuration), "")
    return (len(PAPER_CONFIGURATIONS), configuration)


def order_configurations(configurations) -> list[str]:
    return sorted(set(configurations), key=configuration_sort_key)


def backend_sort_key(backend: str) -> tuple[int, str]:
    if backend in BACKEND_ORDER:
        return (BACKEND_ORDER.index(backend), "")
    return (len(BACKEND_ORDER), backend)


def order_backends(backends) -> list[str]:
    return sorted(set(backends), key=backend_sort_key)


def display_name(configuration: str) -> str:
    """Two-line label as in the paper's figures: 'conv5_1_reduced' -> 'conv5_1\\nreduced'."""
    split_point, separator, variant = configuration.partition("_simple")
    if separator:
        return f"{split_point}\nsimple{variant}"
    split_point, separator, variant = configuration.partition("_reduced")
    if separator:
        return f"{split_point}\nreduced{variant.replace('_', ' ')}"
    return configuration
