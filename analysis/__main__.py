"""python -m analysis RESULTS_DIR [RESULTS_DIR ...] --out reports/NAME"""

import argparse
import sys

from analysis.errors import AnalysisError
from analysis.network_profiles import parse_profile
from analysis.pipeline import analyse
from formats.errors import FormatError

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Tables, figures and report.md from splitbench results (paper Figs. 13-15 and its full vs split ratios).",
    )
    parser.add_argument("results", nargs="+", help="results/<run_id> folders, their results.jsonl files, or a folder of run folders")
    parser.add_argument("--out", required=True, help="output folder, e.g. reports/NAME (tables/, figures/, report.md)")
    parser.add_argument("--network", action="append", default=[], metavar="NAME:UPLINK_MBIT_S:RTT_MS",
                        help="another network profile for the split study, beside 3G, LTE, Wi-Fi and the measured "
                             "link (repeatable), e.g. --network 5G:50:20")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        profiles = [parse_profile(text) for text in arguments.network]
        outputs = analyse(arguments.results, arguments.out, profiles)
    except (AnalysisError, FormatError) as error:
        print(f"analysis: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in outputs.warnings:
        print(f"analysis: warning: {warning.source}: {warning.message}", file=sys.stderr)
    if outputs.failed_launches:
        print(f"analysis: {outputs.failed_launches} failed launch(es) listed in the report, left out of the statistics",
              file=sys.stderr)
    print(f"report: {outputs.report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
