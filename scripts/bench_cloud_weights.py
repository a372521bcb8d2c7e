"""Benchmark of the ways the cloud side can keep a model's remainders' weights, for one set of split points:

  embedded   every remainder a self-contained .pte (what the split study wrote before): disk grows per remainder
  shared     every remainder's .pte without weights, plus one shared .ptd (export/shared_weights.py)
  rebuilt    one saved model (torch.save of the state dict); each remainder cut from it and lowered to XNNPACK
             on the host when the cloud stage needs it (no remainder file at all)

For each it prints the disk, and per remainder the time to make it runnable (load; for `rebuilt` also the
build and lowering) and the median run time (executorch.runtime, XNNPACK, all host cores, as the cloud stage
runs it), and checks that all three give the same output.

    .venv/bin/python -m scripts.bench_cloud_weights [--splits conv3_1,conv5_1,pool5] [--width-divisor 1]
        [--input-size 224] [--repeats 5] [--work-dir DIR]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.cloud.host_runtime import HostProgram
from export.architectures import get_architecture, seeded_model
from export.config import parse_name_list
from export.executorch_writer import lower_to_executorch
from export.models import ModelShape
from export.programs import example_tensor
from export.shared_weights import DATA_FILE, SharedWeights, write_pte_with_external_weights
from export.split_model import split_model

MB = 1e6


def timed_runs(program: HostProgram, values: np.ndarray, repeats: int) -> tuple[np.ndarray, float]:
    output = program.run(values)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        program.run(values)
        times.append((time.perf_counter() - started) * 1e3)
    return output, statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", default="conv3_1,conv5_1,pool5")
    parser.add_argument("--width-divisor", type=int, default=1)
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, help="parent of the scratch folder (default: system temp)")
    args = parser.parse_args(argv)
    splits = parse_name_list(args.splits, "--splits")
    architecture = get_architecture("vgg16")
    model = seeded_model("vgg16", ModelShape(2, args.input_size, args.width_divisor), 0).eval()
    image = example_tensor((1, 3, args.input_size, args.input_size))
    with tempfile.TemporaryDirectory(dir=args.work_dir, prefix="bench-cloud-weights-") as scratch:
        folder = Path(scratch)
        saved_model = folder / "model.pt"
        torch.save(model.state_dict(), saved_model)
        shared = SharedWeights()
        rows = []
        disk = {"embedded": 0, "shared": 0, "rebuilt": saved_model.stat().st_size}
        for split in splits:
            halves = split_model(architecture, model, split)
            with torch.no_grad():
                features = halves.client(image.clone())
            embedded_path = folder / f"{split}.embedded.pte"
            embedded_path.write_bytes(lower_to_executorch(halves.cloud, features, "xnnpack"))
            shared_path, part = folder / f"{split}.shared.pte", folder / f"{split}.part.ptd"
            write_pte_with_external_weights(halves.cloud, features, shared_path, part)
            shared.add_file(part)
            part.unlink()
            disk["embedded"] += embedded_path.stat().st_size
            disk["shared"] += shared_path.stat().st_size
            rows.append((split, features.numpy(), embedded_path, shared_path))
        shared.write(folder / DATA_FILE)
        disk["shared"] += (folder / DATA_FILE).stat().st_size
        print(f"VGG-16, width divisor {args.width_divisor}, input {args.input_size} px, splits {', '.join(splits)}")
        print("disk: " + ", ".join(f"{way} {size / MB:.1f} MB" for way, size in disk.items()))
        print(f"{'split':<9} {'way':<9} {'ready_ms':>9} {'run_ms':>8} {'max_abs_diff':>12}")
        for split, features, embedded_path, shared_path in rows:
            embedded = HostProgram.load(embedded_path)
            reference, run_ms = timed_runs(embedded, features, args.repeats)
            print(f"{split:<9} {'embedded':<9} {embedded.load_ms:>9.1f} {run_ms:>8.2f} {0.0:>12.2e}")
            del embedded
            program = HostProgram.load(shared_path, folder / DATA_FILE)
            output, run_ms = timed_runs(program, features, args.repeats)
            diff = float(np.abs(output - reference).max())
            print(f"{split:<9} {'shared':<9} {program.load_ms:>9.1f} {run_ms:>8.2f} {diff:>12.2e}")
            del program
            started = time.perf_counter()
            rebuilt_model = seeded_model("vgg16", ModelShape(2, args.input_size, args.width_divisor), 0).eval()
            rebuilt_model.load_state_dict(torch.load(saved_model, weights_only=True))
            cloud = split_model(architecture, rebuilt_model, split).cloud
            buffer = lower_to_executorch(cloud, torch.from_numpy(features), "xnnpack")
            rebuilt_path = folder / f"{split}.rebuilt.pte"
            rebuilt_path.write_bytes(buffer)  # executorch.runtime loads a path; the file is removed right after
            program = HostProgram.load(rebuilt_path)
            ready_ms = (time.perf_counter() - started) * 1e3
            rebuilt_path.unlink()
            output, run_ms = timed_runs(program, features, args.repeats)
            diff = float(np.abs(output - reference).max())
            print(f"{split:<9} {'rebuilt':<9} {ready_ms:>9.1f} {run_ms:>8.2f} {diff:>12.2e}")
            del program, rebuilt_model, cloud, buffer
    return 0


if __name__ == "__main__":
    sys.exit(main())
