"""Real photographs end to end on a device: every photo through each chosen device program (a split's client,
or a full program), the client's output pulled and run through its cloud remainder on this host; the logits
returned for the caller to compare (top-5 against the full fp32 model, int8 against fp32).

The photos arrive as float32 tensors already preprocessed by the caller (bench/ never imports export/). The
device writes the input it ran on; it is compared with the tensor sent, so a photo cannot be swapped on the way.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.adb.reconnect import DeviceLink
from bench.cloud.device_files import INPUT_FILE, OUTPUT_FILE, FileLaunch, cloud_device_dir, run_file_launch
from bench.cloud.end_to_end import read_raw
from bench.cloud.errors import CloudStageError
from bench.cloud.host_runtime import HostProgram
from bench.cloud.plan import CLOUD_BACKEND
from bench.device.facts import collect_device_facts
from bench.sweep.deploy import DeviceLayout, deploy, deploy_items
from bench.sweep.loop import device_call
from bench.sweep.programs import LoadedManifest, Program, program_from_entry
from bench.sweep.runners import find_runner_bundle

PHOTO_FOLDER = "photos"


@dataclass(frozen=True)
class PhotoInput:
    """One preprocessed photo: a file-safe name and the (1, 3, H, W) float32 tensor the model takes."""

    name: str
    tensor: np.ndarray

    @property
    def raw_bytes(self) -> bytes:
        return np.ascontiguousarray(self.tensor, dtype="<f4").tobytes()


@dataclass(frozen=True)
class PhotoOutcome:
    """One photo through one device program (and its remainder on the host, for a client)."""

    photo: str
    program_id: str
    configuration: str
    backend: str
    remainder_id: str | None
    status: str  # ok, or the launch's status (runner_error, runner_crash, timeout), or input_mismatch
    logits: np.ndarray | None
    device_output_bytes: int
    message: str = ""


def device_programs(manifest: LoadedManifest, program_ids: list[str]) -> list[tuple[Program, Program | None]]:
    """(device program, its host remainder or None for a full program) for each id; CloudStageError if a
    client has no remainder or a program is not an ExecuTorch client/full program of the manifest."""
    folder = Path(manifest.path).parent
    entries = {entry.id: entry for entry in manifest.manifest.programs}
    pairs = []
    for program_id in program_ids:
        entry = entries.get(program_id)
        if entry is None or entry.role not in ("client", "full") or entry.format != "pte":
            raise CloudStageError(f"{program_id} is not a .pte client or full program of {manifest.path}")
        remainder = None
        if entry.role == "client":
            remainder_id = f"{entry.configuration}.cloud.{CLOUD_BACKEND}"
            if remainder_id not in entries:
                raise CloudStageError(f"{manifest.path} lacks {remainder_id} (the remainder of {program_id}); "
                                      "export with --cloud-backends xnnpack")
            remainder = program_from_entry(entries[remainder_id], folder, manifest.manifest)
        pairs.append((program_from_entry(entry, folder, manifest.manifest), remainder))
    return pairs


def run_photos_on_device(manifest: LoadedManifest, program_ids: list[str], photos: list[PhotoInput],
                         serial_spec: str, link: DeviceLink, core: int, run_id: str, local_dir: Path,
                         on_step: Callable[[str], None] = lambda _: None) -> list[PhotoOutcome]:
    """Every photo through every program on `core` of the device; remainders on this host."""
    pairs = device_programs(manifest, program_ids)
    facts = device_call(link, run_id, lambda c: collect_device_facts(c, serial_spec))
    bundle = find_runner_bundle(facts)
    layout = DeviceLayout.for_bundle(bundle)
    on_step(f"deploy: runner and {len(pairs)} program(s)")
    report = device_call(link, run_id, lambda c: deploy(c, deploy_items(bundle, [p for p, _ in pairs], layout),
                                                        layout))
    if report.failures:
        first = next(iter(report.failures.items()))
        raise CloudStageError(f"could not put {first[0]} on the device ({first[1]}); free space and retry")
    remainders = {r.program_id: HostProgram.load(r.local_path, r.data_local_path) for _, r in pairs if r is not None}
    stage_dir = posixpath.join(layout.root, PHOTO_FOLDER, run_id)
    outcomes = []
    for photo in photos:
        local_photo = local_dir / photo.name / "photo.raw"
        local_photo.parent.mkdir(parents=True, exist_ok=True)
        local_photo.write_bytes(photo.raw_bytes)
        device_photo = posixpath.join(stage_dir, f"{photo.name}.raw")
        device_call(link, run_id, lambda c, local=local_photo, remote=device_photo: (
            c.shell(["mkdir", "-p", stage_dir]), c.push(str(local), remote)))
        for program, remainder in pairs:
            on_step(f"photo {photo.name}: {program.program_id} on the device"
                    + (f", {remainder.program_id} on the host" if remainder else ""))
            launch = FileLaunch(program=program, core=core, input_path=device_photo,
                                device_dir=cloud_device_dir(layout, run_id, f"{photo.name}.{program.program_id}"))
            pulled = local_dir / photo.name / program.program_id
            outcome = device_call(link, run_id, lambda c, launch=launch, pulled=pulled: run_file_launch(
                c, layout, launch, pulled))
            outcomes.append(_photo_outcome(photo, program, remainder, remainders, outcome))
    device_call(link, run_id, lambda c: c.shell(["rm", "-rf", stage_dir]))
    return outcomes


def _photo_outcome(photo: PhotoInput, program: Program, remainder: Program | None,
                   remainders: dict[str, HostProgram], outcome) -> PhotoOutcome:
    common: dict = {"photo": photo.name, "program_id": program.program_id, "configuration": program.configuration,
                    "backend": program.backend, "remainder_id": remainder.program_id if remainder else None}
    if outcome.status != "ok":
        message = (outcome.runner or {}).get("message") or outcome.stderr[-300:]
        return PhotoOutcome(**common, status=outcome.status, logits=None, device_output_bytes=0,
                            message=str(message))
    sent = read_raw(outcome.local_files[INPUT_FILE], list(photo.tensor.shape), "the device's input")
    if not np.array_equal(sent, photo.tensor.astype(np.float32)):
        return PhotoOutcome(**common, status="input_mismatch", logits=None, device_output_bytes=0,
                            message="the device ran on another input than the photo sent")
    output_shape = list(program.manifest_entry["output_shape"])
    device_output = read_raw(outcome.local_files[OUTPUT_FILE], output_shape, "the device's output")
    logits = remainders[remainder.program_id].run(device_output) if remainder else device_output
    return PhotoOutcome(**common, status="ok", logits=logits.reshape(-1),
                        device_output_bytes=outcome.local_files[OUTPUT_FILE].stat().st_size)
