"""Write one int8 program (.pte): quantize on the calibration images, lower to XNNPACK, then measure its accuracy
against the fp32 module on the held-out images."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from export.accuracy import measure_accuracy, run_pte
from export.calibration import CalibrationSet
from export.errors import QuantizationError
from export.executorch_writer import write_program_bytes
from export.programs import ProgramSpec
from export.quantization import ACTIVATIONS, SCHEME, WEIGHTS, build_int8_program, check_calibration_inputs
from formats.manifest import AccuracyInfo, CalibrationInfo, QuantizationInfo


@dataclass(frozen=True)
class Int8Result:
    quantization: QuantizationInfo
    accuracy: AccuracyInfo | None  # None for noisy programs: their noise differs from the reference's
    delegation: str


def calibration_info(images: CalibrationSet) -> CalibrationInfo:
    return CalibrationInfo(source=images.source or images.fingerprint, count=images.count,
                           sha256=images.tensor_sha256())


def quantization_key(calibration: CalibrationSet | None, heldout: CalibrationSet | None) -> dict | None:
    """What an int8 program's bytes and accuracy figures depend on beyond the module (for the cache key)."""
    return {"scheme": SCHEME, "weights": WEIGHTS, "activations": ACTIVATIONS,
            "calibration": calibration.fingerprint if calibration else None,
            "heldout": heldout.fingerprint if heldout else None}


def write_int8_pte(spec: ProgramSpec, path: Path, calibration: CalibrationSet | None,
                   heldout: CalibrationSet | None, weights_id: str) -> Int8Result:
    """Quantize, lower and write `spec` to `path` atomically; QuantizationError without calibration data."""
    if calibration is None or calibration.count == 0:
        check_calibration_inputs(spec.program_id, None)  # raises: int8 needs calibration images
    assert calibration is not None
    if heldout is None or heldout.count == 0:
        raise QuantizationError(f"{spec.program_id} asks for an int8 program but has no held-out images to measure "
                                "its accuracy; pass --accuracy-count >= 1")
    quantized = build_int8_program(spec.module, spec.example_input, spec.inputs_from_images(calibration.images),
                                   spec.program_id)
    write_program_bytes(path, quantized.program)
    accuracy = None
    if spec.noise is None:
        accuracy = measure_accuracy(run_pte(path), spec.module, spec.inputs_from_images(heldout.images), spec.role,
                                    calibration_info(heldout), weights_id)
    quantization = QuantizationInfo(SCHEME, WEIGHTS, ACTIVATIONS, calibration_info(calibration))
    return Int8Result(quantization, accuracy, quantized.delegation)
