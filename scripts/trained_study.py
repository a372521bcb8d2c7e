"""The trained network end to end: EfficientNet-Lite0 (ImageNet weights from an installed package) split at the
cut points its graph offers, on real photographs, on a device, fp32 and int8, beside its random-weight twin.

Steps (each one's output lands in --out):
1. export: the trained network through `--model export.trained:efficientnet_lite0` (clients and full model as
   xnnpack and xnnpack_int8, remainders as xnnpack; int8 calibrated on the calibration photos only);
2. sweep: every full and client program on the device (pinned core, one thread): client time and memory;
3. photos on the device: every evaluation photo through each client on the device and its remainder on this
   host (the device's own bytes), and through the full programs on the device; top-5 against the full fp32
   model (eager, on this host);
4. int8 on crops: seeded crops and flips of the evaluation photos through the PT2E-converted int8 client (the
   module the .pte is lowered from, run by PyTorch on this host; calibrated on the calibration photos only) and
   the fp32 remainder, and through the converted full model, against the fp32 model: top-1 agreement and top-5
   overlap per split point, for the trained network and its random-weight twin
   (`export.trained:efficientnet_lite0_random`, same calibration, same crops).
Writes trained_study.json (formats/trained_study.py); `python -m analysis` turns it into the report section.

Usage: .venv/bin/python -m scripts.trained_study --out artifacts/trained [--serial loopback]
           [--splits A,B,C] [--crops-per-photo 50] [--iterations 10] [--skip-sweep]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.adb.reconnect import DeviceLink
from bench.adb.target import device_connector
from bench.cloud.photo_run import PhotoInput, run_photos_on_device
from bench.errors import BenchError
from bench.sweep.programs import load_manifest_file
from export.config import ExportConfig, parse_name_list
from export.errors import ExportError
from export.photos import (
    CROPS_SEED,
    calibration_set,
    evaluation_crops,
    evaluation_set,
    imagenet_class_names,
)
from export.pipeline import MANIFEST_NAME, run_export
from export.trained import efficientnet_lite0, efficientnet_lite0_random
from formats.errors import FormatError
from formats.manifest import load_manifest
from formats.trained_study import TrainedStudy, write_trained_study

TRAINED = "export.trained:efficientnet_lite0"
TWIN = "export.trained:efficientnet_lite0_random"
TOP = 5
STUDY_FILE = "trained_study.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for exports, run folders and the study")
    parser.add_argument("--serial", default="loopback", help="device (default loopback; loopback-arm64 works too)")
    parser.add_argument("--splits", help="split points (default: the graph's three defaults, past 50/75/90%% "
                                         "of the FLOPs)")
    parser.add_argument("--crops-per-photo", type=int, default=40, help="crops per evaluation photo (default 40)")
    parser.add_argument("--calibration-count", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=10, help="timed inferences per sweep launch")
    parser.add_argument("--skip-sweep", action="store_true", help="no timing sweep (photos and int8 only)")
    return parser.parse_args(argv)


def export(factory: str, out: Path, splits: tuple[str, ...] | None, calibration_count: int) -> Path:
    config = ExportConfig(out_dir=out, model_factory=factory, num_classes=None, splits=splits or None,
                          include_reduced=False, backends=("xnnpack", "xnnpack_int8"), cloud_backends=("xnnpack",),
                          calibration_photos=True, calibration_count=calibration_count, accuracy_count=6)
    run_export(config, on_event=lambda e: print(f"  {e.kind}: {e.name} {e.detail or ''}"[:160], file=sys.stderr,
                                                flush=True))
    return out / MANIFEST_NAME


def top_k(logits: np.ndarray, k: int = TOP) -> list[int]:
    return [int(i) for i in np.argsort(-logits.reshape(-1), kind="stable")[:k]]


def agreement(reference: list[np.ndarray], candidate: list[np.ndarray]) -> dict:
    """Top-1 agreement and mean top-5 overlap (|top5 ∩ top5| / 5) of candidate logits against reference ones."""
    top1 = [top_k(r, 1) == top_k(c, 1) for r, c in zip(reference, candidate, strict=True)]
    overlap = [len(set(top_k(r)) & set(top_k(c))) / TOP for r, c in zip(reference, candidate, strict=True)]
    return {"count": len(top1), "top1_agreement": float(np.mean(top1)), "top5_overlap": float(np.mean(overlap))}


def int8_on_crops(model: torch.nn.Module, splits: tuple[str, ...], calibration: torch.Tensor,
                  crops: torch.Tensor) -> dict[str, dict]:
    """Per configuration ('full' and each split): the PT2E int8 part (+ fp32 remainder) against fp32."""
    from export.graph_split import trace_model
    from export.quantization import quantize_pt2e

    graph = trace_model(model, crops.shape[-1])
    singles = [crops[i:i + 1] for i in range(crops.shape[0])]
    calibration_inputs = [calibration[i:i + 1] for i in range(calibration.shape[0])]
    with torch.no_grad():
        reference = [model(x).numpy() for x in singles]
        converted = quantize_pt2e(model, singles[0], calibration_inputs, "full")
        figures = {"full": agreement(reference, [converted(x).numpy() for x in singles])}
        for split in splits:
            halves = graph.split(split)
            client = quantize_pt2e(halves.client, singles[0], calibration_inputs, split)
            figures[split] = agreement(reference, [halves.remainder(client(x)).numpy() for x in singles])
            print(f"  int8 {split}: {figures[split]}", file=sys.stderr, flush=True)
    return figures


def sweep(manifest_path: Path, serial: str, results: Path, iterations: int) -> Path:
    from bench.run_device import main as run_device

    code = run_device(["--serial", serial, "--manifest", str(manifest_path), "--out", str(results),
                       "--backends", "xnnpack,xnnpack_int8", "--iterations", str(iterations), "--launches", "1",
                       "--cooldown-s", "0", "--cooldown-max-s", "0"])
    if code != 0:
        raise BenchError(f"the sweep ended with exit code {code}; see its messages above")
    return max((path for path in results.iterdir() if path.is_dir()), key=lambda path: path.stat().st_mtime)


def photos_on_device(manifest_path: Path, serial: str, work: Path) -> tuple[list, list[str], list[np.ndarray]]:
    """(outcomes, photo names, eager fp32 logits per photo) for every evaluation photo on the device."""
    images, names = evaluation_set(224)
    with torch.no_grad():
        model = efficientnet_lite0()
        reference = [model(images[i:i + 1]).numpy().reshape(-1) for i in range(len(names))]
    manifest = load_manifest_file(manifest_path)
    program_ids = [e.id for e in manifest.manifest.programs if e.role in ("client", "full") and e.format == "pte"]
    photos = [PhotoInput(name, images[i:i + 1].numpy()) for i, name in enumerate(names)]
    with device_connector(serial) as connect:
        link = DeviceLink(connect)
        try:
            outcomes = run_photos_on_device(manifest, program_ids, photos, serial, link, core=0,
                                            run_id="trained-photos", local_dir=work,
                                            on_step=lambda text: print(f"  {text}", file=sys.stderr, flush=True))
        finally:
            link.close()
    return outcomes, names, reference


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    splits = parse_name_list(args.splits, "--splits") if args.splits else None
    try:
        print("export: trained EfficientNet-Lite0", file=sys.stderr)
        trained = export(TRAINED, args.out / "export", splits, args.calibration_count)
        chosen = tuple(dict.fromkeys(e.split_point for e in load_manifest(trained).programs if e.split_point))
        export_s = time.perf_counter() - started
        crops, crop_names = evaluation_crops(args.crops_per_photo, 224, CROPS_SEED)
        calibration = calibration_set(args.calibration_count, 224).images
        print(f"int8 on {len(crop_names)} crops (PT2E-converted modules on this host)", file=sys.stderr)
        int8_trained = int8_on_crops(efficientnet_lite0(), chosen, calibration, crops)
        int8_twin = int8_on_crops(efficientnet_lite0_random(), chosen, calibration, crops)
        run_folder = None
        if not args.skip_sweep:
            print(f"sweep on {args.serial}", file=sys.stderr)
            run_folder = sweep(trained, args.serial, args.out / "results", args.iterations)
        print(f"photos on {args.serial}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="trained-photos-") as scratch:
            outcomes, names, reference = photos_on_device(trained, args.serial, Path(scratch))
    except (ExportError, BenchError, FormatError) as error:
        print(f"trained_study: error: {error}", file=sys.stderr)
        return 2
    classes = imagenet_class_names()
    by_photo = dict(zip(names, reference, strict=True))
    photo_rows = []
    for outcome in outcomes:
        row = {"photo": outcome.photo, "program_id": outcome.program_id, "configuration": outcome.configuration,
               "backend": outcome.backend, "remainder_id": outcome.remainder_id, "status": outcome.status,
               "device_output_bytes": outcome.device_output_bytes, "message": outcome.message}
        if outcome.logits is not None:
            ref = by_photo[outcome.photo]
            row |= {"top5": top_k(outcome.logits), "top5_labels": [classes[i] for i in top_k(outcome.logits)],
                    "reference_top5": top_k(ref), "top1_equal": top_k(ref, 1) == top_k(outcome.logits, 1),
                    "top5_overlap": len(set(top_k(ref)) & set(top_k(outcome.logits))) / TOP,
                    "logits_max_abs_diff": float(np.max(np.abs(outcome.logits - ref)))}
        photo_rows.append(row)
    study = TrainedStudy(model=TRAINED, twin=TWIN, serial=args.serial, splits=list(chosen),
                         manifest=str(trained), twin_manifest="",
                         run_folder=str(run_folder) if run_folder else None,
                         evaluation_photos=names, crops=len(crop_names), crops_seed=CROPS_SEED,
                         int8_trained=int8_trained, int8_twin=int8_twin, photos=photo_rows,
                         export_s=round(export_s, 1), wall_s=round(time.perf_counter() - started, 1))
    write_trained_study(args.out / STUDY_FILE, study)
    if run_folder is not None:  # `python -m analysis RUN_FOLDER` adds the trained-network section from it
        write_trained_study(Path(run_folder) / STUDY_FILE, study)
    bad = [row for row in photo_rows if row["status"] != "ok"]
    for row in photo_rows:
        if row["status"] == "ok" and row["backend"] == "xnnpack" and row["photo"] in names[:3]:
            print(f"{row['photo']:<16} {row['configuration']:<28} {', '.join(row['top5_labels'][:3])}")
    for name, figures in (("trained", int8_trained), ("random twin", int8_twin)):
        for split, values in figures.items():
            print(f"int8 {name:<12} {split:<28} top-1 {values['top1_agreement']:.3f} "
                  f"top-5 overlap {values['top5_overlap']:.3f} ({values['count']} crops)")
    print(f"{len(photo_rows)} photo runs, {len(bad)} not ok; study {args.out / STUDY_FILE}; "
          f"wall {time.perf_counter() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
