"""Export for the split study: every VGG-16 split point's client and cloud remainder, the full model, and the
paper's reduced (PCA) variants, in one folder with one manifest.

    .venv/bin/python -m scripts.split_study_export --out artifacts/split_study [--splits all] \
        [--width-divisor 1] [--input-size 224] [--backends xnnpack]

The export stage asks for a PCA size for every split that gets a reduced configuration, and the paper reduces
only at conv5_1..conv5_3; so this runs export twice into the same folder (all splits simple with the full
model, then the paper's splits reduced) and writes the union of both manifests. Before each part the union so
far is put back as the folder's manifest, so the export's cache reuses every unchanged program of both parts,
and the remainders of both parts keep their weights in the folder's one shared data file. With a program store
(--program-store, default $SPLITBENCH_PROGRAM_STORE), a program another study exported already (the full model
of the reproduction) is hard-linked from it rather than exported again.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from export.cli import default_program_store
from export.config import ExportConfig, parse_name_list
from export.errors import ExportError
from export.pipeline import MANIFEST_NAME, run_export
from export.split_points import DEFAULT_SPLIT_POINTS, SPLIT_POINT_NAMES, check_split_point
from formats.errors import FormatError
from formats.manifest import Manifest, load_manifest, write_manifest


def parse_splits(text: str) -> tuple[str, ...]:
    if text.strip() == "all":
        return SPLIT_POINT_NAMES
    return tuple(check_split_point(name) for name in parse_name_list(text, "--splits"))


def study_parts(out_dir: Path, splits: tuple[str, ...], backends: tuple[str, ...], width_divisor: int,
                input_size: int, calibration_count: int, seed: int, program_store: Path | None = None,
                workers: int | None = None) -> list[ExportConfig]:
    """(all splits simple + full + remainders, the paper's splits reduced + remainders)."""
    def part(part_splits: tuple[str, ...], include_full: bool, include_reduced: bool) -> ExportConfig:
        return ExportConfig(out_dir=out_dir, width_divisor=width_divisor, input_size=input_size, seed=seed,
                            backends=backends, cloud_backends=("xnnpack",), calibration_count=calibration_count,
                            program_store=program_store, workers=workers, splits=part_splits,
                            include_full=include_full, include_reduced=include_reduced)

    parts = [part(splits, include_full=True, include_reduced=False)]
    reduced = tuple(split for split in DEFAULT_SPLIT_POINTS if split in splits)
    if reduced:
        parts.append(part(reduced, include_full=False, include_reduced=True))
    return parts


def export_split_study(parts: list[ExportConfig], on_event=lambda event: None) -> Manifest:
    """Run every part into the same folder and leave the union of their programs as its manifest."""
    manifest_path = parts[0].out_dir / MANIFEST_NAME
    try:
        base = load_manifest(manifest_path) if manifest_path.is_file() else None
    except FormatError:
        base = None  # unreadable: nothing to reuse, the export rewrites it
    reusable = {entry.id: entry for entry in base.programs} if base is not None else {}
    produced: dict = {}
    for part in parts:
        if base is not None:  # every program known so far, so that this part's export reuses its own
            write_manifest(manifest_path, replace(base, programs=list({**reusable, **produced}.values())))
        base = run_export(part, on_event=on_event, keep_other_data=True)
        produced.update({entry.id: entry for entry in base.programs})
    assert base is not None, "parts is never empty"
    merged = replace(base, programs=list(produced.values()))
    write_manifest(manifest_path, merged)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.split_study_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--splits", default="all", help="'all' (default) or comma-separated split points, any of "
                                                        + " ".join(SPLIT_POINT_NAMES))
    parser.add_argument("--backends", default="xnnpack", help="backends of full and client programs (default xnnpack)")
    parser.add_argument("--width-divisor", type=int, default=1)
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--calibration-count", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--program-store", type=Path, default=default_program_store(),
                        help="folder of programs shared between studies (default $SPLITBENCH_PROGRAM_STORE)")
    parser.add_argument("--workers", type=int, help="export processes (default: as cores and memory allow)")
    args = parser.parse_args(argv)
    try:
        parts = study_parts(args.out, parse_splits(args.splits), parse_name_list(args.backends, "--backends"),
                            args.width_divisor, args.input_size, args.calibration_count, args.seed,
                            args.program_store, args.workers)
        manifest = export_split_study(parts, on_event=lambda e: print(f"{e.kind.replace('_', ' ')}: {e.name}",
                                                                        flush=True))
    except (ExportError, FormatError) as error:
        print(f"split_study_export: error: {error}", file=sys.stderr)
        return 2
    print(f"{len(manifest.programs)} programs; manifest: {args.out / MANIFEST_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
