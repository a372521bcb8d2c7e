"""Command line of the export stage: `python -m export --out DIR [options]`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from export.architectures import ARCHITECTURES, DEFAULT_ARCH, get_architecture
from export.config import BACKENDS, DEVICE_WEIGHTS, ExportConfig, parse_k_option, parse_name_list
from export.errors import ConfigError, ExportError
from export.events import ExportEvent
from export.graph_split import ModelGraph
from export.model_source import load_source_model
from export.pipeline import MANIFEST_NAME, run_export
from formats.errors import FormatError

EXIT_BAD_INPUT = 2
PROGRAM_STORE_VARIABLE = "SPLITBENCH_PROGRAM_STORE"
# Old option -> its new name. The old names held backends, not file formats (pte, ptl); they still work.
DEPRECATED_OPTIONS = {"--formats": "--backends", "--cloud-formats": "--cloud-backends"}


def _dest(option: str) -> str:
    return "deprecated_" + option.lstrip("-").replace("-", "_")


def deprecated_options_used(args: argparse.Namespace) -> list[str]:
    """The deprecated options given on the command line, e.g. ['--formats']."""
    return [old for old in DEPRECATED_OPTIONS if getattr(args, _dest(old), None) is not None]


def _option_value(args: argparse.Namespace, new: str, default: str) -> tuple[str, str]:
    """(value, option name it came from) of a renamed option; giving both the old and new name is an error."""
    old = next(o for o, n in DEPRECATED_OPTIONS.items() if n == new)
    new_value, old_value = getattr(args, new.lstrip("-").replace("-", "_")), getattr(args, _dest(old))
    if new_value is not None and old_value is not None:
        raise ConfigError(f"{old} and {new} both given; pass only {new}")
    if old_value is not None:
        return old_value, old
    return (new_value if new_value is not None else default), new


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m export",
        description="Export a CNN (VGG-16 by default) and the client/cloud parts of the split model as ExecuTorch "
                    "(.pte) and TorchScript Lite (.ptl) programs, with a manifest.json. Unchanged programs are not "
                    "rewritten.")
    parser.add_argument("--out", type=Path, help="output folder (created if missing); required unless --splits list")
    parser.add_argument("--arch", help=f"architecture (default {DEFAULT_ARCH}); one of {', '.join(ARCHITECTURES)}")
    parser.add_argument("--model", metavar="MODULE:CALLABLE",
                        help="bring your own model: a factory returning an nn.Module that torch.export can export "
                             "(e.g. export.trained:efficientnet_lite0); its split points come from its graph")
    parser.add_argument("--splits", help="comma-separated split points (default: the architecture's three, "
                                         "conv5_1,conv5_2,conv5_3 for vgg16; for --model, the cut points past "
                                         "50/75/90%% of its FLOPs); 'list' prints the model's split points "
                                         "with output shape, bytes and cumulative FLOPs, and exits")
    parser.add_argument("--k", help="PCA size: one number for every split, or split=k pairs "
                                    "(default 8, 6, 4 for the three default splits)")
    parser.add_argument("--no-full", action="store_true", help="do not export the full model")
    parser.add_argument("--no-reduced", action="store_true", help="do not export the PCA-reduced configurations")
    parser.add_argument("--noise-variance", type=float,
                        help="also export <split>_reduced_noisy: Gaussian noise of this variance after the PCA")
    parser.add_argument("--noise-splits", help="split points that get a noisy configuration (default: all --splits)")
    parser.add_argument("--backends", help="backends of full and client programs (default "
                                           + ",".join(BACKENDS) + "); also xnnpack_int8: int8, calibrated on the "
                                           "calibration images")
    parser.add_argument("--cloud-backends",
                        help="backends of the cloud remainders (default none: the device programs only; the split "
                             "study asks for xnnpack)")
    parser.add_argument("--device-weights", choices=DEVICE_WEIGHTS, default="shared",
                        help="shared (default): full and client fp32 XNNPACK programs keep their weights once, in the "
                             "folder's data file weights.ptd, which the sweep pushes and the runner loads with --data; "
                             "embedded: inside each program")
    parser.add_argument("--program-store", type=Path,
                        help="folder of programs shared between export folders: a program already exported with "
                             "the same cache key is hard-linked from there (default: $SPLITBENCH_PROGRAM_STORE, "
                             "else none)")
    parser.add_argument("--workers", type=int,
                        help="export processes (default: up to 2, as the cores and the available memory allow)")
    for old in DEPRECATED_OPTIONS:
        parser.add_argument(old, dest=_dest(old), help=argparse.SUPPRESS)
    parser.add_argument("--num-classes", type=int, help="classes of the head (default 2, gender; for --model, "
                                                         "passed to the factory if it takes num_classes)")
    parser.add_argument("--input-size", type=int, default=224, help="input side in pixels (default 224)")
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="vgg16 only: divide every channel count and the classifier's hidden size (default 1); "
                             "small exports of the other architectures use a small --input-size such as 64")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and synthetic images")
    parser.add_argument("--weights", type=Path, help="state dict of --arch (torchvision format) or of the --model "
                                                     "(torch.save) to load (default: random weights seeded by "
                                                     "--seed, or the factory's own)")
    parser.add_argument("--calibration-dir", type=Path, help="folder of images to fit the PCA and calibrate int8 "
                                                             "programs on (default: deterministic synthetic images)")
    parser.add_argument("--calibration-photos", action="store_true",
                        help="calibrate the PCA and int8 programs on the real calibration photos shipped with "
                             "scikit-image and matplotlib, measure int8 on the evaluation photos (export/photos.py)")
    parser.add_argument("--calibration-count", type=int, default=64,
                        help="calibration images for the PCA fit and int8 calibration (default 64)")
    parser.add_argument("--accuracy-count", type=int, default=16,
                        help="held-out images for the int8 accuracy figures (default 16): the next images of "
                             "--calibration-dir, or synthetic ones of another seed")
    return parser


def config_from_args(args: argparse.Namespace, listing: bool = False) -> ExportConfig:
    if args.model is not None and args.arch is not None:
        raise ConfigError("--arch and --model both given; pass one (--model brings your own network)")
    arch = args.arch or DEFAULT_ARCH
    architecture = get_architecture(arch)
    if args.out is None and not listing:
        raise ConfigError("--out is required: pass the output folder, e.g. --out artifacts/export")
    if listing:
        splits: tuple[str, ...] | None = None
    elif args.splits:
        splits = parse_name_list(args.splits, "--splits")
    else:
        splits = None if args.model else architecture.default_splits
    num_classes = args.num_classes if args.num_classes is not None or args.model else 2
    backends, backends_option = _option_value(args, "--backends", ",".join(BACKENDS))
    cloud_text, cloud_option = _option_value(args, "--cloud-backends", "none")
    no_cloud = cloud_text.strip().lower() == "none"
    cloud = () if no_cloud else parse_name_list(cloud_text, cloud_option)
    return ExportConfig(
        out_dir=args.out or Path("."), arch=arch, num_classes=num_classes, input_size=args.input_size,
        width_divisor=args.width_divisor, seed=args.seed, weights_path=args.weights, splits=splits,
        include_full=not args.no_full, include_reduced=not args.no_reduced,
        k_by_split=parse_k_option(args.k, splits or (), arch) if args.k and not args.model else {},
        noise_variance=args.noise_variance,
        noise_splits=parse_name_list(args.noise_splits, "--noise-splits") if args.noise_splits else None,
        backends=parse_name_list(backends, backends_option), cloud_backends=cloud, device_weights=args.device_weights,
        calibration_dir=args.calibration_dir, calibration_count=args.calibration_count,
        accuracy_count=args.accuracy_count, model_factory=args.model, calibration_photos=args.calibration_photos,
        program_store=args.program_store or default_program_store(), workers=args.workers,
    )


def default_program_store() -> Path | None:
    """$SPLITBENCH_PROGRAM_STORE, if set."""
    value = os.environ.get(PROGRAM_STORE_VARIABLE, "").strip()
    return Path(value) if value else None


def split_point_table(graph: ModelGraph, label: str, defaults: tuple[str, ...] = (),
                      default_k: dict[str, int] | None = None) -> str:
    """Every cut point of the graph in execution order: output shape, fp32 bytes, cumulative FLOPs; defaults
    marked with their k."""
    default_k = default_k or {}
    size = "x".join(map(str, graph.input_shape[2:]))
    width = max([len(cut.name) for cut in graph.cut_points] + [4])
    lines = [f"split points of {label} (input {size}; {len(graph.cut_points)} cut points; * = default, with its k):",
             f"  {'name':<{width}} {'output':<14} {'bytes fp32':>12} {'cum. MFLOP':>11}"]
    for cut in graph.cut_points:
        mark = f"* k={default_k[cut.name]}" if cut.name in defaults and cut.name in default_k else (
            "*" if cut.name in defaults else "")
        shape = "x".join(map(str, cut.output_shape[1:]))
        lines.append(f"  {cut.name:<{width}} {shape:<14} {cut.output_bytes_fp32:>12} "
                     f"{cut.cumulative_flops / 1e6:>11.1f}  {mark}".rstrip())
    return "\n".join(lines)


def list_split_points(args: argparse.Namespace) -> str:
    """The table `--splits list` prints, for --arch or --model."""
    config = config_from_args(args, listing=True)
    source, resolved = load_source_model(config)
    defaults = resolved.split_points if config.model_factory else get_architecture(config.arch).default_splits
    default_k = dict(resolved.k_by_split) if config.model_factory else dict(get_architecture(config.arch).default_k)
    return split_point_table(source.graph, source.label, tuple(defaults), default_k)


def print_event(event: ExportEvent) -> None:
    verb = event.kind.replace("_", " ")
    print(f"{verb}: {event.name}" + (f" ({event.detail})" if event.detail else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for old in deprecated_options_used(args):
        print(f"export: warning: {old} is deprecated (it names backends); use {DEPRECATED_OPTIONS[old]}",
              file=sys.stderr)
    try:
        if args.splits is not None and args.splits.strip() == "list":
            print(list_split_points(args))
            return 0
        config = config_from_args(args)
        manifest = run_export(config, on_event=print_event)
    except (ExportError, FormatError) as error:
        print(f"export: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{len(manifest.programs)} programs; manifest: {config.out_dir / MANIFEST_NAME}")
    return 0
