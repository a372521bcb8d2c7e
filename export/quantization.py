"""int8 programs: post-training static quantization (PT2E flow, ExecuTorch's XNNPACK quantizer), then XNNPACK.

Flow: torch.export.export(module).module() -> prepare_pt2e(XNNPACKQuantizer) -> run the calibration inputs ->
convert_pt2e -> torch.export.export -> to_edge_transform_and_lower(XnnpackPartitioner) -> .pte bytes.
Weights are int8, symmetric, one scale per output channel; activations int8, affine, one scale per tensor, fixed
from the calibration inputs (HistogramObserver). Inputs and outputs of the program stay float32: the graph
quantizes on entry and dequantizes on exit.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from export.errors import QuantizationError

INT8_BACKEND = "xnnpack_int8"
SCHEME = "pt2e_static_int8"
WEIGHTS = "int8 symmetric, per output channel"
ACTIVATIONS = "int8 affine, per tensor, static (calibrated)"


@dataclass(frozen=True)
class QuantizedProgram:
    """The converted (quantize/dequantize) module, as Python runs it, and the lowered ExecuTorch program."""

    converted: nn.Module
    program: bytes
    delegation: str  # ExecuTorch's delegation summary of the lowered graph (what XNNPACK took, what it left)


def check_calibration_inputs(program_id: str, calibration_inputs: Sequence[torch.Tensor] | None) -> None:
    """Refuse to quantize without calibration data (static int8 needs activation ranges)."""
    if not calibration_inputs:
        raise QuantizationError(f"{program_id} asks for {INT8_BACKEND} but has no calibration data: static int8 "
                                "quantization needs calibration images (--calibration-dir, or the synthetic set "
                                "with --calibration-count >= 2)")


def quantize_pt2e(module: nn.Module, example_input: torch.Tensor, calibration_inputs: Sequence[torch.Tensor],
                  program_id: str = "program") -> nn.Module:
    """The PT2E-converted module: observers calibrated on `calibration_inputs` (each shaped like the example)."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    check_calibration_inputs(program_id, calibration_inputs)
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    with torch.no_grad():
        captured = torch.export.export(module.eval(), (example_input,), strict=False).module()
        prepared = prepare_pt2e(captured, quantizer)
        for tensor in calibration_inputs:
            if tuple(tensor.shape) != tuple(example_input.shape):
                raise QuantizationError(f"calibration input of {program_id} has shape {list(tensor.shape)}, the "
                                        f"program takes {list(example_input.shape)}")
            prepared(tensor)
        return convert_pt2e(prepared)


def lower_quantized(converted: nn.Module, example_input: torch.Tensor) -> tuple[bytes, str]:
    """Lower a converted module to an XNNPACK-delegated ExecuTorch program; (bytes, delegation summary)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    from export.noise import NOISE_OPS

    with torch.no_grad():
        exported = torch.export.export(converted, (example_input,), strict=False)
        edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()],
                                           compile_config=EdgeCompileConfig(
                                               _core_aten_ops_exception_list=list(NOISE_OPS)))
        summary = delegation_summary(edge.exported_program().graph_module)
        return edge.to_executorch().buffer, summary


def delegation_summary(graph_module: torch.fx.GraphModule) -> str:
    """ExecuTorch's table of delegated and non-delegated operators of a lowered graph, as text."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(graph_module)
    lines = [f"delegated nodes {info.num_delegated_nodes}, non-delegated nodes {info.num_non_delegated_nodes}, "
             f"delegate calls {info.num_delegated_subgraphs}"]
    lines += [f"  not delegated: {op} x{breakdown.non_delegated}"
              for op, breakdown in sorted(info.delegation_by_operator.items()) if breakdown.non_delegated > 0]
    return "\n".join(lines)


def build_int8_program(module: nn.Module, example_input: torch.Tensor, calibration_inputs: Sequence[torch.Tensor],
                       program_id: str) -> QuantizedProgram:
    """Quantize `module` on the calibration inputs and lower it; QuantizationError on any failure."""
    check_calibration_inputs(program_id, calibration_inputs)
    try:
        converted = quantize_pt2e(module, example_input, calibration_inputs, program_id)
        program, summary = lower_quantized(converted, example_input)
    except QuantizationError:
        raise
    except Exception as error:  # the PT2E flow and the lowering raise many error types
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise QuantizationError(f"int8 export of {program_id} failed: {type(error).__name__}: {first_line}") from error
    return QuantizedProgram(converted, program, summary)
