"""Several devices in one command: one sweep per device, in parallel, each its own process.

``--serial a,b,c`` (or ``all``: every device in state `device` on the adb server) makes a group folder
results/<group_id>/ holding group.json (formats.run_folder.RunGroup) and one ordinary run folder per device.
Each device's sweep is a child ``python -m bench.run_device --serial S --out results/<group_id>``: its own
process, connection, device lock, rows and exit code, so that a device that fails or disconnects ends with its
rows and status while the others go on. Processes rather than threads: a sweep's Ctrl-C handling, its
loopback device and its device link stay exactly those of a one-device run, and one device's stall cannot
hold the others' interpreter.

Ctrl-C (SIGINT to this process) is passed on once to every child, which stops as a one-device sweep does
(rows kept, lock released); then one ``--resume GROUP_ID`` continues every unfinished device.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.adb.connection import parse_server_address
from bench.adb.serials import parse_serial
from bench.adb.transport.server import listed_devices, printable
from bench.errors import BenchError, SettingsError
from formats.backends import optional_runtimes
from formats.errors import FormatError
from formats.run_folder import (
    GroupMember,
    RunGroup,
    create_group_folder,
    is_group,
    read_group,
    run_ids_for_serial,
    utc_now_text,
    write_group,
)

ALL_DEVICES = "all"
EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_MEANINGS = {EXIT_OK: "done", EXIT_PARTIAL: "partial", EXIT_ERROR: "error", EXIT_INTERRUPTED: "interrupted"}
STOP_GRACE_S = 60.0  # after Ctrl-C, how long a device's sweep may take to save its rows and release its lock
LEFT_OUT_OF_CHILD_ARGS = {"serial", "out", "resume", "help"}
KEPT_ON_RESUME = ("manifest", "runner_bundle", "adb_key", "transport", "adb_server",
                  *(runtime.bundle_dest for runtime in optional_runtimes()))
RESUME_HINT_PREFIX = "resume with:"
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def is_device_group(args: argparse.Namespace) -> bool:
    """Several serials, `all`, or --resume of a group folder."""
    if args.resume:
        return is_group(args.out, args.resume)
    serial = args.serial or ""
    return "," in serial or serial.strip() == ALL_DEVICES


def group_serials(serial_text: str, server_text: str | None) -> list[str]:
    """The serials of --serial a,b,c (each checked, no repeats), or for `all` those the adb server lists as `device`."""
    if serial_text.strip() == ALL_DEVICES:
        address = parse_server_address(server_text)
        devices = listed_devices(address)
        serials = [device.serial for device in devices if device.state == "device"]
        for serial in serials:
            parse_serial(serial)  # a listed name this harness cannot use is one clear error (shown escaped)
        if not serials:
            listed = ", ".join(f"{printable(d.serial)} ({printable(d.state)})" for d in devices) or "nothing"
            raise SettingsError(f"--serial all: the adb server at {address.text} lists no device in state `device` "
                                f"(it lists {listed}); connect a phone and accept its prompt, then run again")
        return serials
    serials = [item.strip() for item in serial_text.split(",") if item.strip()]
    if ALL_DEVICES in serials:
        raise SettingsError("--serial all stands alone: pass `all` or a list of serials, not both")
    repeated = sorted({serial for serial in serials if serials.count(serial) > 1})
    if repeated:
        raise SettingsError(f"--serial names {', '.join(repeated)} more than once; give each device once")
    for serial in serials:
        parse_serial(serial)
    return serials


def options_as_argv(args: argparse.Namespace, parser: argparse.ArgumentParser,
                    keep: Callable[[str], bool]) -> list[str]:
    """The command-line options that give `args` (those whose dest `keep` accepts), paths made absolute."""
    argv: list[str] = []
    for action in parser._actions:  # noqa: SLF001 - argparse offers no public list of its options
        if not action.option_strings or not keep(action.dest):
            continue
        value = getattr(args, action.dest, None)
        if value is None or value is False:
            continue
        flag = next((option for option in action.option_strings if option.startswith("--")), action.option_strings[0])
        if action.nargs == 0:
            argv.append(flag)
        elif isinstance(value, (tuple, list)):
            argv += [flag, ",".join(str(item) for item in value)]
        elif isinstance(value, Path):
            argv += [flag, str(value.resolve())]
        else:
            argv += [flag, str(value)]
    return argv


@dataclass
class MemberSweep:
    """One device's sweep process, its output passed through line by line with the serial in front."""

    serial: str
    argv: list[str]
    process: subprocess.Popen | None = None
    pumps: list[threading.Thread] = field(default_factory=list)

    def start(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.run_device", *self.argv], env=environment,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)  # Ctrl-C reaches it once, from here
        assert self.process.stdout is not None and self.process.stderr is not None
        self.pumps = [threading.Thread(target=_pass_through, args=(self.serial, stream, sink), daemon=True)
                      for stream, sink in ((self.process.stdout, sys.stdout), (self.process.stderr, sys.stderr))]
        for pump in self.pumps:
            pump.start()

    def interrupt(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)

    def wait(self, deadline: Callable[[], float | None]) -> int:
        assert self.process is not None
        while self.process.poll() is None:
            limit = deadline()
            if limit is not None and time.monotonic() > limit:
                self.process.kill()
            time.sleep(0.05)
        for pump in self.pumps:
            pump.join(timeout=5)
        return self.process.returncode


def _pass_through(serial: str, stream: IO[bytes], sink: Any) -> None:
    """Copy a child's lines to our own stream with `[serial] ` in front; its own resume hint is left out
    (the group prints one for every device)."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if line.startswith(RESUME_HINT_PREFIX):
            continue
        print(f"[{serial}] {line}", file=sink, flush=True)


@contextlib.contextmanager
def interrupts_passed_to(members: list[MemberSweep], interrupted: threading.Event) -> Iterator[None]:
    """While the block runs, SIGINT/SIGTERM here interrupt every device's sweep once instead of this process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(_number, _frame) -> None:
        if not interrupted.is_set():
            interrupted.set()
            print("interrupted: stopping every device's sweep (their rows are saved)", file=sys.stderr, flush=True)
            for member in members:
                member.interrupt()

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_members(members: list[MemberSweep]) -> tuple[dict[str, int], bool]:
    """Start every device's sweep, wait for all; (serial -> exit code, whether Ctrl-C stopped them)."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY_ROOT), environment.get("PYTHONPATH")]))
    interrupted = threading.Event()
    stop_by: list[float] = []

    def deadline() -> float | None:
        if interrupted.is_set() and not stop_by:
            stop_by.append(time.monotonic() + STOP_GRACE_S)
        return stop_by[0] if stop_by else None

    with interrupts_passed_to(members, interrupted):
        for member in members:
            if not interrupted.is_set():
                member.start(environment)
        codes = {member.serial: member.wait(deadline) if member.process is not None else EXIT_INTERRUPTED
                 for member in members}
    return codes, interrupted.is_set()


def group_exit_code(codes: list[int], interrupted: bool) -> int:
    """130 after Ctrl-C; 0 when every device is done; 2 when every device failed; else 1 (resume the rest)."""
    if interrupted:
        return EXIT_INTERRUPTED
    if all(code == EXIT_OK for code in codes):
        return EXIT_OK
    if all(code == EXIT_ERROR for code in codes):
        return EXIT_ERROR
    return EXIT_PARTIAL


def new_group(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[RunGroup, Path]:
    serials = group_serials(args.serial or "", args.adb_server)
    if args.manifest is None:
        raise SettingsError("no manifest given: pass --manifest artifacts/export/manifest.json")
    start_args = options_as_argv(args, parser, lambda dest: dest not in LEFT_OUT_OF_CHILD_ARGS)
    resume_args = options_as_argv(args, parser, lambda dest: dest in KEPT_ON_RESUME)
    folder = create_group_folder(args.out)
    group = RunGroup(group_id=folder.name, created_utc=utc_now_text(), start_args=start_args,
                     resume_args=resume_args, members=[GroupMember(serial) for serial in serials])
    write_group(args.out, group)
    return group, folder


def member_argv(group: RunGroup, member: GroupMember, folder: Path) -> list[str]:
    """A device's child command line: resume its run when it has one, else start it with the group's settings."""
    common = ["--serial", member.serial, "--out", str(folder)]
    if member.run_id is not None and (folder / member.run_id / "run.json").is_file():
        return common + ["--resume", member.run_id] + group.resume_args
    return common + group.start_args


def run_device_group(args: argparse.Namespace, parser: argparse.ArgumentParser,
                     check_settings: Callable[[argparse.Namespace], object] = lambda _args: None) -> int:
    """The CLI of several devices: start (or resume) the group, wait, write group.json, print one summary."""
    try:
        check_settings(args)
        if args.resume:
            folder = Path(args.out) / args.resume
            group = read_group(args.out, args.resume)
            if args.serial and args.serial != os.environ.get("ANDROID_SERIAL") and \
                    set(group_serials(args.serial, args.adb_server)) != {m.serial for m in group.members}:
                raise SettingsError(f"--resume {group.group_id} continues the group's own devices "
                                    f"({', '.join(m.serial for m in group.members)}); leave out --serial")
        else:
            group, folder = new_group(args, parser)
        pending = [member for member in group.members if not member.finished]
        for member in group.members:
            if member.finished:
                print(f"[{member.serial}] run {member.run_id} is done already", file=sys.stderr)
        print(f"group {group.group_id} -> {folder}: {len(pending)} device(s) in parallel: "
              f"{', '.join(m.serial for m in pending)}", file=sys.stderr, flush=True)
        sweeps = [MemberSweep(member.serial, member_argv(group, member, folder)) for member in pending]
        codes, interrupted = run_members(sweeps)
        for member in pending:
            member.exit_code = codes[member.serial]
            run_ids = run_ids_for_serial(folder, member.serial)
            member.run_id = run_ids[-1] if run_ids else member.run_id
        write_group(args.out, group)
    except (BenchError, FormatError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:
        print(f"error: {error.strerror or error} ({error.filename or 'local file'}); check --out and free disk space",
              file=sys.stderr)
        return EXIT_ERROR
    print_group_summary(group, folder, args.out)
    return group_exit_code([member.exit_code for member in pending if member.exit_code is not None], interrupted)


def print_group_summary(group: RunGroup, folder: Path, results_dir: Path) -> None:
    for member in group.members:
        outcome = EXIT_MEANINGS.get(member.exit_code, f"exit code {member.exit_code}") \
            if member.exit_code is not None else "not started"
        print(f"device {member.serial}: run {member.run_id or '(none: it never started)'}, {outcome}")
    print(f"group {group.group_id}: results in {folder}")
    unfinished = [member.serial for member in group.members if not member.finished]
    if unfinished:
        command = shlex.join([sys.executable, "-m", "bench.run_device", "--out", str(results_dir),
                              "--resume", group.group_id])
        print(f"resume with: {command}   (continues {', '.join(unfinished)})", file=sys.stderr, flush=True)
