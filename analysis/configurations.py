"""Display names of configurations in tables and figures (their order is formats.paper's)."""


def display_name(configuration: str) -> str:
    """Two-line label as in the paper's figures: 'conv5_1_reduced' -> 'conv5_1\\nreduced'."""
    split_point, separator, variant = configuration.partition("_simple")
    if separator:
        return f"{split_point}\nsimple{variant}"
    split_point, separator, variant = configuration.partition("_reduced")
    if separator:
        return f"{split_point}\nreduced{variant.replace('_', ' ')}"
    return configuration
