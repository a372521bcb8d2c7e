"""Command line of the cloud stage:

    python -m bench.cloud RUN_FOLDER [--serial SERIAL] [--repeats 10] [--profile-iterations 10] ...

Exit codes: 0 done (every simple split agreed with the full model), 1 done with mismatches or failed
launches (listed), 2 error (one line saying what to do).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.adb.reconnect import DeviceLink
from bench.adb.serials import parse_serial
from bench.adb.target import device_connector
from bench.cloud.end_to_end import DEFAULT_TOLERANCE, CheckSettings
from bench.cloud.errors import CloudStageError
from bench.cloud.link_probe import LinkProbeSettings
from bench.cloud.stage import CloudStageSettings, open_cloud_run, run_cloud_stage
from bench.errors import BenchError
from formats.errors import FormatError

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cloud",
        description="Run the cloud half of every split configuration of a sweep: the client once more on the "
                    "device on a known image, its output pulled and run through the cloud remainder on this host "
                    "(ExecuTorch XNNPACK, all cores), checked against the full model; the link to the device "
                    "measured; the full model profiled per layer from the runner's ETDump.")
    parser.add_argument("run_folder", type=Path, help="results/<run_id> of a sweep")
    parser.add_argument("--serial", help="device (default: the run's own --serial)")
    parser.add_argument("--configs", help="only these client configurations, comma-separated")
    parser.add_argument("--repeats", type=int, default=10, help="timed executions of each remainder (default 10)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="largest logit difference of a simple split, relative to the full model's largest "
                             "|logit| (default %(default)s)")
    parser.add_argument("--profile-iterations", type=int, default=10,
                        help="traced runs of the full program for the per-layer profile (default 10; 0 = none)")
    parser.add_argument("--link-payload-kb", type=int, default=4096,
                        help="size of the file pushed to measure the link (default 4096 KB)")
    parser.add_argument("--no-link", action="store_true", help="do not measure the link to the device")
    parser.add_argument("--keep-files", type=Path, help="keep the pulled input/output/ETDump files in this folder")
    parser.add_argument("--runner-bundle", type=Path, help="runner bundle folder (default: by the device's ABI)")
    parser.add_argument("--adb-key", type=Path, help="adb private key (default: ~/.android/adbkey)")
    return parser


def settings_from_args(args: argparse.Namespace) -> CloudStageSettings:
    if args.profile_iterations < 0:
        raise CloudStageError(f"--profile-iterations is {args.profile_iterations}; pass 0 (no profile) or more")
    if args.link_payload_kb < 1:
        raise CloudStageError(f"--link-payload-kb is {args.link_payload_kb}; pass at least 1")
    configs = tuple(name.strip() for name in (args.configs or "").split(",") if name.strip()) or None
    return CloudStageSettings(
        check=CheckSettings(repeats=args.repeats, tolerance=args.tolerance),
        link=None if args.no_link else LinkProbeSettings(payload_bytes=args.link_payload_kb * 1024),
        profile_iterations=args.profile_iterations or None, configurations=configs, keep_files_dir=args.keep_files)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        opened = open_cloud_run(args.run_folder, settings.configurations)
        serial = args.serial or opened.info.get("serial_spec")
        if not serial:
            raise CloudStageError("run.json names no device; pass --serial SERIAL")
        parse_serial(serial)
        print(f"cloud stage of run {opened.run_id}: {len(opened.plan.splits)} split configuration(s) on {serial}",
              file=sys.stderr, flush=True)
        with device_connector(serial, key_path=args.adb_key) as connect:
            link = DeviceLink(connect)
            try:
                report = run_cloud_stage(opened, serial, link, settings, runner_bundle_dir=args.runner_bundle,
                                         on_step=lambda text: print(text, file=sys.stderr, flush=True))
            finally:
                link.close()
    except (BenchError, FormatError) as error:
        print(f"bench.cloud: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("bench.cloud: interrupted; run it again (it starts afresh)", file=sys.stderr)
        return 130
    bad = [row for row in report.rows if row.status != "ok"]
    for row in report.rows:
        transfer = row.transfer
        cloud_ms = f"{row.cloud.median_ms:.2f} ms" if row.cloud else "-"
        sent = f"{transfer.float32_bytes} B" if transfer else "-"
        agree = row.check["top1_agree"] if row.check else None
        print(f"{row.configuration:24s} {row.status:12s} sent(fp32) {sent:>12s}  cloud {cloud_ms:>10s}  "
              f"top-1 agrees: {agree}")
    if report.link is not None:
        print(f"link: push {report.link.push_throughput_bytes_per_s / 1e6:.1f} MB/s, "
              f"round trip {report.link.round_trip_median_ms:.2f} ms")
    if report.profile_skipped:
        print(f"per-layer profile skipped: {report.profile_skipped}", file=sys.stderr)
    for name, path in report.files.items():
        print(f"{name}: {path}")
    for row in bad:
        print(f"{row.configuration}: {row.status}: {row.message}", file=sys.stderr)
    return EXIT_PARTIAL if bad else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
