"""The host half of one split configuration: the device's pulled input and output -> the cloud remainder on
the host, timed, and its prediction checked against the full program on the same input (a cloud row).

A simple split must reproduce the full model (logits within `tolerance`, relative to the full model's largest
logit, and the same top-1); a reduced one only approximates it through the PCA reconstruction, so its agreement
is reported and never turned into a failure. The remainder also runs on the features after a float16 and an int8
round trip, so the report can say what those cheaper encodings cost in agreement."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.cloud.device_files import INPUT_FILE, OUTPUT_FILE, FileLaunchOutcome
from bench.cloud.errors import CloudStageError
from bench.cloud.feature_encodings import ENCODINGS, encoded_sizes, round_trip
from bench.cloud.host_runtime import HostProgram
from bench.cloud.input_image import InputImage
from bench.cloud.plan import CLOUD_BACKEND, SplitWork
from formats.cloud_results import CLOUD_ONLY_CONFIGURATION, CloudRow, TransferBytes
from formats.run_folder import utc_now_text

DEFAULT_TOLERANCE = 1e-3


@dataclass(frozen=True)
class CheckSettings:
    repeats: int = 10
    tolerance: float = DEFAULT_TOLERANCE

    def __post_init__(self):
        if self.repeats < 1:
            raise CloudStageError(f"--repeats is {self.repeats}; it must be at least 1")
        if not self.tolerance > 0:
            raise CloudStageError(f"--tolerance is {self.tolerance}; it must be above 0")


def agreement(reference: np.ndarray, candidate: np.ndarray) -> dict:
    """Top-1 agreement and the largest logit difference relative to the reference's largest |logit|."""
    reference = reference.reshape(-1)
    candidate = candidate.reshape(-1)
    finite = bool(np.all(np.isfinite(candidate)))
    scale = max(float(np.max(np.abs(reference))), 1e-12)
    rel = float(np.max(np.abs(candidate - reference))) / scale if finite else None
    return {"full_top1": int(np.argmax(reference)), "split_top1": int(np.argmax(candidate)) if finite else None,
            "top1_agree": finite and int(np.argmax(reference)) == int(np.argmax(candidate)),
            "logits_rel_error": rel}


def read_raw(path: Path, shape: list[int], what: str) -> np.ndarray:
    data = Path(path).read_bytes()
    expected = 4 * int(np.prod(shape))
    if len(data) != expected:
        raise CloudStageError(f"{what} {path} holds {len(data)} bytes, expected {expected} for float32 {shape}")
    return np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)


def transfer_of(values: np.ndarray, payload: str, image: InputImage | None = None) -> TransferBytes:
    sizes = encoded_sizes(values)
    return TransferBytes(payload=payload, shape=list(values.shape), float32_bytes=sizes.float32_bytes,
                         float16_bytes=sizes.float16_bytes, int8_bytes=sizes.int8_bytes,
                         int8_scale=sizes.int8_scale, max_abs=sizes.max_abs,
                         uint8_bytes=int(image.pixels.size) if image is not None else None,
                         jpeg_bytes=len(image.jpeg) if image is not None else None,
                         jpeg_quality=image.jpeg_quality if image is not None else None)


def device_summary(outcome: FileLaunchOutcome, image: InputImage) -> dict:
    summary = {"status": outcome.status, "exit_code": outcome.exit_code, "wall_s": outcome.wall_s,
               "input_matches": None, "output_sha256": None,
               "message": (outcome.runner or {}).get("message") or (outcome.stderr[-400:] or None)
               if outcome.status != "ok" else None}
    if INPUT_FILE in outcome.local_files:
        summary["input_matches"] = hashlib.sha256(outcome.local_files[INPUT_FILE].read_bytes()).hexdigest() == image.sha256
    if OUTPUT_FILE in outcome.local_files:
        summary["output_sha256"] = hashlib.sha256(outcome.local_files[OUTPUT_FILE].read_bytes()).hexdigest()
    return summary


def check_split(run_id: str, work: SplitWork, outcome: FileLaunchOutcome, image: InputImage, full: HostProgram,
                settings: CheckSettings) -> CloudRow:
    """The cloud row of one split configuration from the device's pulled files."""
    base: dict[str, Any] = dict(run_id=run_id, configuration=work.configuration, split_point=work.split_point,
                                client_program_id=work.client.program_id, cloud_program_id=work.remainder.program_id,
                                reduction_k=work.reduction_k, input=image.describe(), device=device_summary(outcome, image),
                                measured_utc=utc_now_text())
    if outcome.status != "ok":
        return CloudRow(status="device_error", message=f"the client launch ended {outcome.status}",
                        transfer=None, cloud=None, check=None, **base)
    try:
        device_input = read_raw(outcome.local_files[INPUT_FILE], list(work.client.input_shape), "the device's input")
        features = read_raw(outcome.local_files[OUTPUT_FILE], list(work.client.manifest_entry["output_shape"]),
                            "the device's output")
    except CloudStageError as error:
        return CloudRow(status="device_error", message=str(error), transfer=None, cloud=None, check=None, **base)
    transfer = transfer_of(features, "features")
    try:
        reference = full.reference_output(device_input)
        remainder = HostProgram.load(work.remainder.local_path, work.remainder.data_local_path)
        logits, timing = remainder.timed(features, settings.repeats, CLOUD_BACKEND)
        by_encoding = {"float32": agreement(reference, logits)}
        for encoding in ENCODINGS[1:]:
            by_encoding[encoding] = agreement(reference, remainder.run(round_trip(features, encoding)))
    except CloudStageError as error:
        return CloudRow(status="cloud_error", message=str(error), transfer=transfer, cloud=None, check=None, **base)
    result = by_encoding["float32"]
    check = {"reference": f"{full.path.name} on the host, on the input the device wrote",
             "exact_expected": work.exact_expected, "tolerance": settings.tolerance, **result,
             "by_encoding": by_encoding}
    status, message = "ok", None
    if work.exact_expected:
        within = result["logits_rel_error"] is not None and result["logits_rel_error"] <= settings.tolerance
        if not (within and result["top1_agree"]):
            status = "mismatch"
            message = (f"device client + host remainder disagree with the full model: top-1 "
                       f"{result['split_top1']} vs {result['full_top1']}, relative logit error "
                       f"{result['logits_rel_error']} (tolerance {settings.tolerance})")
    return CloudRow(status=status, message=message, transfer=transfer, cloud=timing, check=check, **base)


def cloud_only_row(run_id: str, image: InputImage, full: HostProgram, full_program_id: str,
                   settings: CheckSettings) -> CloudRow:
    """The baseline with no device compute: the phone sends the image, the host runs the full program."""
    logits, timing = full.timed(image.tensor, settings.repeats, CLOUD_BACKEND)
    top1 = int(np.argmax(logits.reshape(-1)))
    return CloudRow(run_id=run_id, configuration=CLOUD_ONLY_CONFIGURATION, split_point=None, client_program_id=None,
                    cloud_program_id=full_program_id, reduction_k=None, status="ok", message=None,
                    input=image.describe(), device=None, transfer=transfer_of(image.tensor, "image", image),
                    cloud=timing, check={"reference": "itself", "exact_expected": True, "tolerance": 0.0,
                                         "full_top1": top1, "split_top1": top1, "top1_agree": True,
                                         "logits_rel_error": 0.0, "by_encoding": {}},
                    measured_utc=utc_now_text())
