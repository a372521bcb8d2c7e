"""How much of an int8 program's error is int8's, and how much is the network amplifying any small error.

For each --arch (random seeded weights, as the export uses them, or --weights), at every split point:
1. int8: the client cut there, quantized with the export's PT2E flow (calibration and held-out images as the export
   picks them), run in Python against its fp32 twin: cosine similarity and relative error of the features;
2. fp32 only: Gaussian noise of the same relative size as int8's error at the first split point is added there,
   once, and followed through the fp32 network: the relative error it has grown to at each later split point.

Where the two columns grow alike, the growth is the network's sensitivity (random weights make some networks
amplify every perturbation), not a flaw of the quantization. Prints one table per architecture.

Usage: .venv/bin/python scripts/bench_int8_sensitivity.py [--arch mobilenet_v2,resnet18] [--input-size 224]
           [--calibration-count 32] [--accuracy-count 16] [--splits block1,block6,...]
           [--weights STATE_DICT.pth --num-classes N] [--calibration-dir IMAGES]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from export.accuracy import compare_outputs
from export.architectures import architecture_graph, get_architecture, split_point_names
from export.config import ExportConfig, parse_name_list
from export.errors import ExportError
from export.model_source import load_source_model
from export.quantization import quantize_pt2e
from export.reduction_setup import load_calibration, load_heldout
from export.split_model import split_model

NOISE_SEED = 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mobilenet_v2,resnet18", help="architectures (default %(default)s)")
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--calibration-count", type=int, default=32)
    parser.add_argument("--accuracy-count", type=int, default=16)
    parser.add_argument("--splits", help="split points to quantize at (default: all of the architecture's)")
    parser.add_argument("--weights", type=Path, help="torchvision state dict of the (single) --arch, as for the export")
    parser.add_argument("--num-classes", type=int, default=2, help="classes of the head (default %(default)s)")
    parser.add_argument("--calibration-dir", type=Path, help="calibration and held-out images, as for the export")
    return parser.parse_args(argv)


def int8_errors(model: torch.nn.Module, arch: str, points: list[str], calibration: torch.Tensor,
                heldout: torch.Tensor) -> dict[str, dict]:
    """Per split point: cosine and relative error of the PT2E-converted client against the fp32 client."""
    figures = {}
    for point in points:
        started = time.perf_counter()
        client = split_model(get_architecture(arch), model, point, calibration.shape[-1]).client
        converted = quantize_pt2e(client, calibration[:1], [image.unsqueeze(0) for image in calibration], point)
        with torch.no_grad():
            int8 = torch.cat([converted(image.unsqueeze(0)) for image in heldout])
            fp32 = client(heldout)
        figures[point] = compare_outputs(int8, fp32, class_scores=False)
        print(f"  [{arch} {point}: {time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    return figures


def fp32_noise_growth(model: torch.nn.Module, arch: str, inject_at: str, relative_size: float,
                      heldout: torch.Tensor) -> dict[str, float | None]:
    """Relative error at every split point from `inject_at` on, after noise of `relative_size` added at `inject_at`."""
    generator = torch.Generator().manual_seed(NOISE_SEED)
    graph = architecture_graph(arch, model, heldout.shape[-1])
    names = list(graph.names)
    names = names[names.index(graph.cut_point(inject_at).name):]

    def add_noise(name: str, value: torch.Tensor) -> torch.Tensor:
        if name != names[0] or relative_size == 0:
            return value
        noise = torch.randn(value.shape, generator=generator)
        return value + noise * (relative_size * torch.linalg.vector_norm(value) / torch.linalg.vector_norm(noise))

    clean = graph.activations(heldout, names)
    noisy = graph.activations(heldout, names, add_noise)
    return {name: compare_outputs(noisy[name], clean[name], class_scores=False)["relative_error"] for name in names}


def report(arch: str, points: list[str], int8: dict[str, dict], growth: dict[str, float | None]) -> None:
    print(f"\n{arch}: int8 client vs fp32, and fp32 with noise of int8's {points[0]} size added at {points[0]}")
    print("split point   int8 cosine  int8 rel. error  fp32+noise rel. error  int8 / fp32+noise")
    for point in points:
        error = int8[point]["relative_error"]
        grown = growth.get(point)
        ratio = f"{error / grown:17.2f}" if grown else f"{'-':>17}"
        grown_text = f"{grown:21.4f}" if grown is not None else f"{'-':>21}"
        print(f"{point:<12}  {int8[point]['cosine_similarity_mean']:11.4f}  {error:15.4f}  {grown_text}  {ratio}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        arches = parse_name_list(args.arch, "--arch")
        if args.weights is not None and len(arches) != 1:
            raise ExportError("--weights belong to one architecture: give a single --arch with them")
        for arch in arches:
            names = list(split_point_names(arch))
            points = [name for name in names if name in parse_name_list(args.splits, "--splits")] if args.splits else names
            if not points:
                raise ExportError(f"none of --splits is a split point of {arch}; it has: {', '.join(names)}")
            with tempfile.TemporaryDirectory() as scratch:
                config = ExportConfig(out_dir=Path(scratch), arch=arch, input_size=args.input_size,
                                      num_classes=args.num_classes, weights_path=args.weights,
                                      calibration_dir=args.calibration_dir,
                                      calibration_count=args.calibration_count, accuracy_count=args.accuracy_count)
            model = load_source_model(config)[0].model
            calibration, heldout = load_calibration(config).images, load_heldout(config).images
            int8 = int8_errors(model, arch, points, calibration, heldout)
            growth = fp32_noise_growth(model, arch, points[0], int8[points[0]]["relative_error"], heldout)
            report(arch, points, int8, growth)
    except ExportError as error:
        print(f"bench_int8_sensitivity: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
