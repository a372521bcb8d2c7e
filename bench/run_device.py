"""Command line: run the benchmark sweep of an exported manifest on a phone (or the loopback device).

    python bench/run_device.py --serial SERIAL --manifest artifacts/export/manifest.json [--out results] ...
    python -m bench.run_device ...

Programs of a runtime other than ExecuTorch (.ptl: TorchScript Lite, formats.backends) run with that runtime's
build of the runner (``<platform>-<abi>-lite`` next to the plain bundle, or --lite-runner-bundle); without one
they give "unsupported" rows. The sweep settings' flags are made from SweepConfig (bench.sweep.setting_flags).

Several devices (--serial a,b or all): one sweep per device in parallel, each in its own run folder
under one group folder (bench.sweep.device_group); --resume GROUP_ID continues every unfinished one.

Exit codes: 0 done, 1 partial sweep (device lost: resume it; or some programs unsupported by the
runner builds at hand: the message says how to build the missing one), 2 error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from bench.adb.connection import TRANSPORTS, parse_server_address
from bench.adb.reconnect import DeviceLink
from bench.adb.serials import parse_serial
from bench.adb.target import LOOPBACK_SERIAL, device_connector
from bench.errors import BenchError, SettingsError, SweepStopped
from bench.sweep.device_group import is_device_group, run_device_group
from bench.sweep.progress import ProgressEvent, format_progress
from bench.sweep.run import OpenedRun, RunReport, RunRequest, execute_run, open_run
from bench.sweep.setting_flags import add_setting_flags, config_from_args, given_setting_flags
from bench.sweep.settings import SweepConfig
from formats.backends import PROGRAM_FORMATS, optional_runtimes, runtime_formats
from formats.display_text import shown
from formats.errors import FormatError

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_device.py",
        description="Run every full/client program of an export manifest on a device, N launches each, "
                    "pinned to one core; rows go to <out>/<run_id>/results.jsonl.")
    parser.add_argument("--serial", default=os.environ.get("ANDROID_SERIAL"),
                        help="adb serial (emulator-5554, HOST:PORT, a USB serial, 'loopback'), several comma-separated "
                             "(one sweep per device, in parallel), or 'all' (every device the adb server lists); "
                             "default $ANDROID_SERIAL")
    parser.add_argument("--manifest", type=Path, help="manifest.json written by export/ (optional with --resume)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--resume", metavar="RUN_ID", help="continue an interrupted run with its own settings")
    parser.add_argument("--runner-bundle", type=Path,
                        help="runner bundle folder (default: android_app/build/<platform>-<abi>/bundle)")
    for runtime in optional_runtimes():
        formats = ", ".join(f".{name}" for name in runtime_formats(runtime))
        parser.add_argument(runtime.bundle_option, dest=runtime.bundle_dest, type=Path,
                            help=f"{runtime.label} runner bundle for {formats} programs "
                                 f"(default: the <platform>-<abi>{runtime.variant} build next to the runner bundle)")
    parser.add_argument("--adb-key", type=Path, help="adb private key of the direct transport (default: ~/.android/adbkey)")
    parser.add_argument("--transport", choices=TRANSPORTS, default="auto",
                        help="how to reach the device: through the adb server (server), adb-shell without one (direct), "
                             "or the server when it lists the serial, else direct (auto, the default)")
    parser.add_argument("--adb-server", metavar="HOST:PORT",
                        help="the adb server to use (default: $ANDROID_ADB_SERVER_HOST:$ANDROID_ADB_SERVER_PORT, "
                             "else 127.0.0.1:5037)")
    sweep = parser.add_argument_group("sweep settings (stored in run.json; not allowed with --resume)")
    add_setting_flags(sweep)
    return parser


def split_backends_from_formats(args: argparse.Namespace) -> list[str]:
    """--formats once took backend names too: move those to --backends; returns the names moved."""
    moved = [name for name in args.formats or () if name not in PROGRAM_FORMATS]
    if moved:
        args.backends = tuple(args.backends or ()) + tuple(moved)
        args.formats = tuple(name for name in args.formats if name in PROGRAM_FORMATS) or None
    return moved


def request_from_args(args: argparse.Namespace) -> RunRequest:
    if not (args.serial or "").strip():
        raise SettingsError("no device given: pass --serial SERIAL (or set ANDROID_SERIAL; "
                            f"--serial {LOOPBACK_SERIAL} runs on this host)")
    # One parse: a malformed serial fails here, before anything is written, and the parsed (stripped) text is
    # the serial every later step uses.
    serial = parse_serial(args.serial).text
    parse_server_address(args.adb_server)
    if args.resume:
        given = given_setting_flags(args)
        if given:
            raise SettingsError(f"--resume continues with the run's own settings; leave out {', '.join(given)}")
    elif args.manifest is None:
        raise SettingsError("no manifest given: pass --manifest artifacts/export/manifest.json")
    return RunRequest(serial_spec=serial, results_dir=args.out, manifest_path=args.manifest,
                      config=config_from_args(args) if not args.resume else SweepConfig(),
                      resume_run_id=args.resume, runner_bundle_dir=args.runner_bundle,
                      runtime_bundle_dirs={runtime.name: getattr(args, runtime.bundle_dest)
                                           for runtime in optional_runtimes()
                                           if getattr(args, runtime.bundle_dest) is not None},
                      transport=args.transport, adb_server=args.adb_server)


def check_group_settings(args: argparse.Namespace) -> None:
    """The settings of several devices' sweeps, checked once before any device is started."""
    if args.resume:
        given = given_setting_flags(args)
        if given:
            raise SettingsError(f"--resume continues with the run's own settings; leave out {', '.join(given)}")
        return
    parse_server_address(args.adb_server)
    config_from_args(args)


def resume_command(request: RunRequest, opened: OpenedRun) -> str:
    argv = [sys.executable, "-m", "bench.run_device", "--serial", request.serial_spec,
            "--manifest", str(opened.manifest.path), "--out", str(request.results_dir), "--resume", opened.run_id]
    if request.runner_bundle_dir is not None:
        argv += ["--runner-bundle", str(request.runner_bundle_dir)]
    for runtime in optional_runtimes():
        if runtime.name in request.runtime_bundle_dirs:
            argv += [runtime.bundle_option, str(request.runtime_bundle_dirs[runtime.name])]
    if request.transport != "auto":
        argv += ["--transport", request.transport]
    if request.adb_server is not None:
        argv += ["--adb-server", request.adb_server]
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
    for choice in report.runtime_runners.values():
        if choice.bundle is not None:
            formats = ", ".join(f".{name}" for name in runtime_formats(choice.runtime))
            print(f"{choice.runtime.label} runner for {formats} programs: {choice.bundle.folder}")
    print(f"results: {report.folder / 'results.jsonl'}")


def unsupported_warning(report: RunReport) -> str | None:
    """The line explaining "unsupported" rows of this session, or None when there are none."""
    count = report.summary.statuses.get("unsupported", 0)
    if not count:
        return None
    unavailable = [choice for choice in report.runtime_runners.values() if choice.unavailable_reason]
    formats = ", ".join(f".{name}" for choice in unavailable for name in runtime_formats(choice.runtime))
    reasons = "; ".join(choice.unavailable_reason or "" for choice in unavailable)
    return f"warning: {count} launch(es) of {formats or 'some'} programs not run: {reasons or 'no runner can run them'}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    moved = split_backends_from_formats(args)
    if moved:
        print(f"warning: --formats {','.join(moved)} names backends; --formats is now for file formats "
              f"(pte, ptl): use --backends {','.join(moved)}", file=sys.stderr)
    if is_device_group(args):
        return run_device_group(args, build_parser(), check_settings=check_group_settings)
    opened = None
    request = None
    try:
        request = request_from_args(args)
        opened = open_run(request)
        if opened.repaired_tail_bytes:
            print(f"cut an unfinished last row ({opened.repaired_tail_bytes} bytes) from "
                  f"{opened.folder.results_path}", file=sys.stderr)
        print(f"run {opened.run_id} -> {opened.folder.path}", file=sys.stderr, flush=True)
        with device_connector(request.serial_spec, key_path=args.adb_key, transport=request.transport,
                              server=parse_server_address(request.adb_server)) as connect:
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
