"""Command line: run the benchmark sweep of an exported manifest on a phone (or the loopback device).

    python bench/run_device.py --serial SERIAL --manifest artifacts/export/manifest.json [--out results] ...
    python -m bench.run_device ...

.ptl programs run with the TorchScript Lite build of the runner (``<platform>-<abi>-lite`` next to
the plain bundle, or --lite-runner-bundle); without one they give "unsupported" rows.

Exit codes: 0 done, 1 partial sweep (device lost: resume it; or some programs unsupported by the
runner builds at hand: the message says how to build the missing one), 2 error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.adb.reconnect import DeviceLink  # noqa: E402
from bench.adb.serials import parse_serial  # noqa: E402
from bench.adb.target import LOOPBACK_SERIAL, device_connector  # noqa: E402
from bench.errors import BenchError, SettingsError, SweepStopped  # noqa: E402
from bench.sweep.progress import ProgressEvent, format_progress  # noqa: E402
from bench.sweep.run import OpenedRun, RunReport, RunRequest, execute_run, open_run  # noqa: E402
from bench.sweep.settings import SweepConfig  # noqa: E402
from formats.display_text import shown
from formats.errors import FormatError  # noqa: E402
from formats.paper import PROGRAM_FORMATS  # noqa: E402

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
SWEEP_OPTIONS = ("iterations", "warmup", "launches", "cooldown_s", "cooldown_max_s", "core",
                 "configs", "backends", "formats", "max_time_ms", "launch_timeout_s", "no_drop_caches",
                 "target_ci_pct", "max_launches", "no_core_peak",
                 "reconnect_attempts")


def comma_list(text: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. full,conv5_1_simple")
    return items


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_device.py",
        description="Run every full/client program of an export manifest on a device, N launches each, "
                    "pinned to one core; rows go to <out>/<run_id>/results.jsonl.")
    parser.add_argument("--serial", default=os.environ.get("ANDROID_SERIAL"),
                        help="adb serial (emulator-5554, HOST:PORT, ...) or 'loopback'; default $ANDROID_SERIAL")
    parser.add_argument("--manifest", type=Path, help="manifest.json written by export/ (optional with --resume)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--resume", metavar="RUN_ID", help="continue an interrupted run with its own settings")
    parser.add_argument("--runner-bundle", type=Path,
                        help="runner bundle folder (default: android_app/build/<platform>-<abi>/bundle)")
    parser.add_argument("--lite-runner-bundle", type=Path,
                        help="TorchScript Lite runner bundle for .ptl programs "
                             "(default: the <platform>-<abi>-lite build next to the runner bundle)")
    parser.add_argument("--adb-key", type=Path, help="adb private key (default: ~/.android/adbkey)")
    defaults = SweepConfig()
    sweep = parser.add_argument_group("sweep settings (stored in run.json; not allowed with --resume)")
    sweep.add_argument("--core", type=int, help="CPU core to pin to (default: the fastest online core)")
    sweep.add_argument("--iterations", type=int, help=f"timed inferences per launch (default {defaults.iterations})")
    sweep.add_argument("--warmup", type=int, help=f"warm-up inferences per launch (default {defaults.warmup})")
    sweep.add_argument("--launches", type=int, help=f"process launches per program (default {defaults.launches})")
    sweep.add_argument("--cooldown-s", type=float, help=f"pause between programs (default {defaults.cooldown_s})")
    sweep.add_argument("--cooldown-max-s", type=float,
                       help=f"longest wait for the temperature to come back (default {defaults.cooldown_max_s})")
    sweep.add_argument("--configs", type=comma_list, help="configurations to run, e.g. full,conv5_1_simple")
    sweep.add_argument("--backends", type=comma_list, help="backends to run, e.g. xnnpack,lite (default: all)")
    sweep.add_argument("--formats", type=comma_list, help="program file formats to run: pte, ptl (default: both)")
    sweep.add_argument("--max-time-ms", type=int, help="cap of the timed loop per launch (runner option; 0 = none)")
    sweep.add_argument("--launch-timeout-s", type=float,
                       help=f"kill a launch after this long (default {defaults.launch_timeout_s:.0f})")
    sweep.add_argument("--reconnect-attempts", type=int,
                       help=f"reconnections tried when the device drops away, waiting {defaults.reconnect_backoff_s:.0f} s, "
                            f"then twice as long each time (default {defaults.reconnect_attempts})")
    sweep.add_argument("--target-ci-pct", type=float,
                       help="add launches to a program until its median's 95%% interval is within +-this %% "
                            "(default: off; the interval is the report's)")
    sweep.add_argument("--max-launches", type=int,
                       help=f"cap of launches per program with --target-ci-pct (default {defaults.max_launches})")
    sweep.add_argument("--no-core-peak", action="store_true", default=None,
                       help="do not measure the pinned core's peak fp32 FMA rate before the sweep")
    sweep.add_argument("--no-drop-caches", action="store_true", default=None,
                       help="do not drop the page cache before first launches even when root")
    return parser


def split_backends_from_formats(args: argparse.Namespace) -> list[str]:
    """--formats once took backend names too: move those to --backends; returns the names moved."""
    moved = [name for name in args.formats or () if name not in PROGRAM_FORMATS]
    if moved:
        args.backends = tuple(args.backends or ()) + tuple(moved)
        args.formats = tuple(name for name in args.formats if name in PROGRAM_FORMATS) or None
    return moved


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    values = {
        "iterations": args.iterations, "warmup": args.warmup, "launches": args.launches,
        "cooldown_s": args.cooldown_s, "cooldown_max_s": args.cooldown_max_s, "core": args.core,
        "configurations": args.configs, "backends": args.backends, "formats": args.formats, "max_time_ms": args.max_time_ms,
        "launch_timeout_s": args.launch_timeout_s, "reconnect_attempts": args.reconnect_attempts,
        "drop_caches": False if args.no_drop_caches else None,
        "target_ci_pct": args.target_ci_pct, "max_launches": args.max_launches,
        "measure_core_peak": False if args.no_core_peak else None,
    }
    return SweepConfig(**{key: value for key, value in values.items() if value is not None})


def request_from_args(args: argparse.Namespace) -> RunRequest:
    if not (args.serial or "").strip():
        raise SettingsError("no device given: pass --serial SERIAL (or set ANDROID_SERIAL; "
                            f"--serial {LOOPBACK_SERIAL} runs on this host)")
    # One parse: a malformed serial fails here, before anything is written, and the parsed (stripped) text is
    # the serial every later step uses.
    serial = parse_serial(args.serial).text
    if args.resume:
        given = [name for name in SWEEP_OPTIONS if getattr(args, name) is not None]
        if given:
            raise SettingsError(f"--resume continues with the run's own settings; leave out "
                                f"{', '.join('--' + name.replace('_', '-') for name in given)}")
    elif args.manifest is None:
        raise SettingsError("no manifest given: pass --manifest artifacts/export/manifest.json")
    return RunRequest(serial_spec=serial, results_dir=args.out, manifest_path=args.manifest,
                      config=config_from_args(args) if not args.resume else SweepConfig(),
                      resume_run_id=args.resume, runner_bundle_dir=args.runner_bundle,
                      lite_runner_bundle_dir=args.lite_runner_bundle)


def resume_command(request: RunRequest, opened: OpenedRun) -> str:
    argv = [sys.executable, "-m", "bench.run_device", "--serial", request.serial_spec,
            "--manifest", str(opened.manifest.path), "--out", str(request.results_dir), "--resume", opened.run_id]
    if request.runner_bundle_dir is not None:
        argv += ["--runner-bundle", str(request.runner_bundle_dir)]
    if request.lite_runner_bundle_dir is not None:
        argv += ["--lite-runner-bundle", str(request.lite_runner_bundle_dir)]
    return shlex.join(argv)


def print_progress(event: ProgressEvent) -> None:
    print(format_progress(event), file=sys.stderr, flush=True)


def print_report(report: RunReport) -> None:
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(report.summary.statuses.items()))
    print(f"run {report.run_id}: {report.summary.rows_written} row(s) written"
          f" ({statuses or 'none'}), {report.summary.rows_already_done} already done")
    device = report.device
    print(f"device {shown(device.model)} ({shown(device.platform)}-{shown(device.abi)}), core {report.core}")
    print(f"deploy: {report.deploy.files_pushed}/{report.deploy.files_checked} file(s) pushed "
          f"({report.deploy.bytes_pushed / 1e6:.1f} MB) in {report.deploy.push_s:.2f} s, "
          f"sha256 checks {report.deploy.hash_check_s:.2f} s")
    if report.lite_runner is not None and report.lite_runner.bundle is not None:
        print(f"TorchScript Lite runner for .ptl programs: {report.lite_runner.bundle.folder}")
    print(f"results: {report.folder / 'results.jsonl'}")


def unsupported_warning(report: RunReport) -> str | None:
    """The line explaining "unsupported" rows of this session, or None when there are none."""
    count = report.summary.statuses.get("unsupported", 0)
    if not count:
        return None
    reason = report.lite_runner.unavailable_reason if report.lite_runner else None
    return f"warning: {count} launch(es) of .ptl programs not run: {reason or 'no runner can run them'}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    moved = split_backends_from_formats(args)
    if moved:
        print(f"warning: --formats {','.join(moved)} names backends; --formats is now for file formats "
              f"(pte, ptl): use --backends {','.join(moved)}", file=sys.stderr)
    opened = None
    request = None
    try:
        request = request_from_args(args)
        opened = open_run(request)
        if opened.repaired_tail_bytes:
            print(f"cut an unfinished last row ({opened.repaired_tail_bytes} bytes) from "
                  f"{opened.folder.results_path}", file=sys.stderr)
        print(f"run {opened.run_id} -> {opened.folder.path}", file=sys.stderr, flush=True)
        with device_connector(request.serial_spec, key_path=args.adb_key) as connect:
            link = DeviceLink(connect, attempts=opened.config.reconnect_attempts,
                              backoff_s=opened.config.reconnect_backoff_s)
            try:
                report = execute_run(opened, request, link, on_progress=print_progress)
            finally:
                link.close()
        print_report(report)
        warning = unsupported_warning(report)
        if warning is not None:
            print(warning, file=sys.stderr)
            return EXIT_PARTIAL
        return EXIT_OK
    except KeyboardInterrupt:
        print("interrupted: the rows measured so far are saved", file=sys.stderr)
        print_resume_hint(request, opened)
        return EXIT_INTERRUPTED
    except SweepStopped as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        print_resume_hint(request, opened)
        return EXIT_PARTIAL
    except (BenchError, FormatError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        print_resume_hint(request, opened)
        return EXIT_ERROR
    except OSError as exc:  # the results folder (or a local file) could not be written or read
        print(f"error: {exc.strerror or exc} ({exc.filename or 'local file'}); check --out and free disk space",
              file=sys.stderr)
        print_resume_hint(request, opened)
        return EXIT_ERROR
    finally:
        if opened is not None:
            opened.close()


def one_line(exc: Exception) -> str:
    """An error message on one line (device commands quoted in messages may span several), with any control
    character a device put in it escaped."""
    return shown(" ".join(str(exc).split()), max_chars=4000)


def print_resume_hint(request: RunRequest | None, opened: OpenedRun | None) -> None:
    if request is not None and opened is not None and opened.folder.has_run_info:
        print(f"resume with: {resume_command(request, opened)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
