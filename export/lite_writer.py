"""Write a module as a TorchScript Lite program (.ptl) for the PyTorch Mobile lite interpreter."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from export.errors import ProgramExportError


def write_ptl(module: nn.Module, example_input: torch.Tensor, path: Path) -> int:
    """Trace `module`, save it for the lite interpreter at `path` atomically; return the bytecode version.

    Tracing checks are off because noisy programs give different outputs on every run by design.
    """
    temporary = path.with_name(path.name + ".tmp")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module.eval(), example_input, check_trace=False)
            traced._save_for_lite_interpreter(str(temporary))
    except Exception as error:  # tracing and serialisation raise many error types
        raise ProgramExportError(f"TorchScript Lite export of {path.name} failed: {type(error).__name__}: "
                                 f"{str(error).splitlines()[0] if str(error) else ''}") from error
    temporary.replace(path)
    return bytecode_version(path)


def bytecode_version(path: Path) -> int:
    """The lite interpreter bytecode version recorded in a .ptl file."""
    from torch.jit.mobile import _get_model_bytecode_version

    return int(_get_model_bytecode_version(str(path)))
