"""Benchmark of the export stage at full size: export time and file size of every paper configuration per format.

Exports into a fresh folder (so nothing is reused from a cache) and prints one table row per program.
Heavy: about 1-2 minutes per full VGG-16 program; the portable full model is about 537 MB.

    .venv/bin/python scripts/bench_export.py [--formats xnnpack,portable,lite] [--work-dir DIR] [--keep]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from export.config import BACKENDS, ExportConfig, parse_name_list
from export.errors import ExportError
from export.events import ExportEvent
from export.pipeline import run_export
from formats.manifest import Manifest

MB = 1e6


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default=",".join(BACKENDS), help="backends to export (default %(default)s)")
    parser.add_argument("--work-dir", type=Path, help="parent of the fresh export folder (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the exported files and print their folder")
    parser.add_argument("--calibration-count", type=int, default=64, help="images for the PCA fit (default 64)")
    return parser.parse_args(argv)


def print_table(manifest: Manifest) -> None:
    print(f"{'program':<28} {'size_MB':>9} {'export_s':>9} {'GFLOP':>7} {'params_M':>9} {'output_B':>9}")
    for entry in manifest.programs:
        print(f"{entry.id:<28} {entry.size_bytes / MB:>9.1f} {entry.export_time_s:>9.1f} {entry.flops / 1e9:>7.2f} "
              f"{entry.param_count / 1e6:>9.2f} {entry.output_size_bytes:>9}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench_export_", dir=args.work_dir))
    try:
        config = ExportConfig(out_dir=folder, backends=parse_name_list(args.formats, "--formats"), cloud_backends=(),
                              calibration_count=args.calibration_count)
        started = time.perf_counter()

        def report(event: ExportEvent) -> None:
            now = time.perf_counter()
            print(f"[{now - started:7.1f} s] {event.kind}: {event.name} {event.detail}", file=sys.stderr, flush=True)

        manifest = run_export(config, on_event=report)
        wall_s = time.perf_counter() - started
    except ExportError as error:
        print(f"bench_export: error: {error}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_table(manifest)
    print(f"total wall time {wall_s:.1f} s for {len(manifest.programs)} programs "
          f"(includes building VGG-16, the PCA fit on {args.calibration_count} synthetic images and FLOP counting)")
    if args.keep:
        print(f"files kept in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
