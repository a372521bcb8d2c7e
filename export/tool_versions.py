"""Versions of the tools that shape an exported program (recorded in the manifest and in every cache key)."""
from __future__ import annotations

import platform
from importlib import metadata


def tool_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": metadata.version("torch"),
        "torchvision": metadata.version("torchvision"),
        "executorch": metadata.version("executorch"),
    }
