"""The accuracy cost of an int8 program: its outputs against its fp32 twin (the eager module) on held-out inputs.

Figures (computed in float64): per-input cosine similarity of the flattened outputs (mean and minimum), the
relative error ||int8 - fp32|| / ||fp32|| over all held-out outputs together, and for programs that output class
scores (full, cloud) the top-1 agreement: the share of inputs whose arg-max class is the same. With random weights
these describe the numerics of int8 against fp32, not accuracy on a task.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from formats.manifest import AccuracyInfo, CalibrationInfo

REFERENCE = "fp32 eager module"
ROLES_WITH_CLASS_SCORES = ("full", "cloud")


def accuracy_note(weights_id: str) -> str:
    if weights_id.startswith("seed:"):
        return (f"random weights ({weights_id}): these figures measure int8 numerics against fp32, "
                "not task accuracy")
    return "agreement with the fp32 model on held-out images, not accuracy against labels"


def compare_outputs(int8: torch.Tensor, fp32: torch.Tensor, class_scores: bool) -> dict[str, float | None]:
    """Figures for stacked outputs (N, ...) of the int8 program and the fp32 reference."""
    a, b = int8.flatten(1).to(torch.float64), fp32.flatten(1).to(torch.float64)
    cosine = nn.functional.cosine_similarity(a, b, dim=1, eps=1e-12)
    reference_norm = float(torch.linalg.vector_norm(b))
    relative = float(torch.linalg.vector_norm(a - b)) / reference_norm if reference_norm > 0 else float("inf")
    top1 = float((a.argmax(dim=1) == b.argmax(dim=1)).to(torch.float64).mean()) if class_scores else None
    return {"top1_agreement": top1, "cosine_similarity_mean": float(cosine.mean()),
            "cosine_similarity_min": float(cosine.min()), "relative_error": relative}


def run_pte(path: Path) -> Callable[[torch.Tensor], torch.Tensor]:
    """A callable running the program's forward method in executorch.runtime."""
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(path)).load_method("forward")
    return lambda tensor: method.execute([tensor])[0]


def measure_accuracy(program: Callable[[torch.Tensor], torch.Tensor], reference: nn.Module,
                     inputs: Sequence[torch.Tensor], role: str, heldout: CalibrationInfo,
                     weights_id: str) -> AccuracyInfo:
    """Run the int8 program and the fp32 reference on every held-out input and compare (see module doc)."""
    with torch.no_grad():
        int8 = torch.cat([program(tensor.clone()) for tensor in inputs])
        fp32 = torch.cat([reference(tensor.clone()) for tensor in inputs])
    figures = compare_outputs(int8, fp32, role in ROLES_WITH_CLASS_SCORES)

    def rounded(name: str) -> float:
        value = figures[name]
        assert value is not None, f"compare_outputs always gives {name}"
        return round(value, 6)

    top1 = figures["top1_agreement"]
    return AccuracyInfo(reference=REFERENCE, heldout=heldout, note=accuracy_note(weights_id),
                        top1_agreement=round(top1, 6) if top1 is not None else None,
                        cosine_similarity_mean=rounded("cosine_similarity_mean"),
                        cosine_similarity_min=rounded("cosine_similarity_min"), relative_error=rounded("relative_error"))
