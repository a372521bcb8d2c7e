"""python -m loopback --port 5555 --sandbox DIR [--auth ...] [--abi arm64-v8a]: run a loopback ADB device until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from loopback.abi_mode import ARM64_ABI
from loopback.device import DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_CONNECTIONS, LoopbackDevice
from loopback.errors import LoopbackDeviceError
from loopback.faults import FaultPlan


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loopback",
        description="Run an ADB device on this host (device side of the protocol). On an odd port in 5555-5585 "
        "the adb server lists it by itself as emulator-(port-1); otherwise `adb connect HOST:PORT`.",
    )
    parser.add_argument("--sandbox", required=True, help="folder that stands for the device's /data/local/tmp")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; beyond 127.0.0.0/8 needs --auth --adb-keys FILE)")
    parser.add_argument("--port", type=int, default=5555, help="TCP port (default 5555; 0 = any free port)")
    parser.add_argument("--auth", action="store_true", help="require hosts to authenticate with an RSA key")
    parser.add_argument("--adb-keys", help="accepted public keys, one per line (like the phone's adb_keys file)")
    parser.add_argument("--accept-new-keys", action="store_true",
                        help="with --auth: trust any key a host offers (and append it to --adb-keys)")
    parser.add_argument("--any-local-user", action="store_true",
                        help="let other users of this host connect (default: only peers running as this user); "
                        "needs --auth --adb-keys FILE")
    parser.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS,
                        help=f"connections served at once; more are closed at once (default {DEFAULT_MAX_CONNECTIONS})")
    parser.add_argument("--idle-timeout-s", type=float, default=DEFAULT_IDLE_TIMEOUT_S,
                        help="close a connection with no open stream after this many silent seconds "
                        f"(default {DEFAULT_IDLE_TIMEOUT_S:g})")
    parser.add_argument("--abi", help=f"be an emulated Android {ARM64_ABI} phone (runs aarch64 programs through "
                        "qemu-aarch64; needs its binfmt_misc entry); default: this host's own ABI")
    parser.add_argument("--storage-quota-bytes", type=int, help="pushes fail with 'No space left on device' past this")
    parser.add_argument("--drop-after-commands", type=int, help="drop the connection at the next command after N")
    parser.add_argument("--drop-after-bytes", type=int, help="drop the connection once a host sent more than N bytes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    try:
        device = _device_from(args)
        device.start()
    except LoopbackDeviceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"loopback device {device.serial} serving {device.sandbox} as /data/local/tmp (Ctrl-C to stop)", flush=True)
    try:
        while not stop_requested.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        device.stop()
    return 0


def _device_from(args: argparse.Namespace) -> LoopbackDevice:
    return LoopbackDevice(
        args.sandbox,
        host=args.host,
        port=args.port,
        auth_required=args.auth,
        adb_keys_path=args.adb_keys,
        storage_quota_bytes=args.storage_quota_bytes,
        accept_new_keys=args.accept_new_keys,
        allowed_uid=None if args.any_local_user else os.getuid(),
        max_connections=args.max_connections,
        idle_timeout_s=args.idle_timeout_s,
        abi=args.abi,
        faults=FaultPlan(drop_after_commands=args.drop_after_commands, drop_after_bytes=args.drop_after_bytes),
    )


if __name__ == "__main__":
    sys.exit(main())
