"""python -m bench.loopback --port 5555 --sandbox DIR [--auth ...]: run a loopback ADB device until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from bench.errors import BenchError
from bench.loopback.device import LoopbackDevice
from bench.loopback.faults import FaultPlan


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loopback",
        description="Run an ADB device on this host (device side of the protocol). On an odd port in 5555-5585 "
        "the adb server lists it by itself as emulator-(port-1); otherwise `adb connect HOST:PORT`.",
    )
    parser.add_argument("--sandbox", required=True, help="folder that stands for the device's /data/local/tmp")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5555, help="TCP port (default 5555; 0 = any free port)")
    parser.add_argument("--auth", action="store_true", help="require hosts to authenticate with an RSA key")
    parser.add_argument("--adb-keys", help="accepted public keys, one per line (like the phone's adb_keys file)")
    parser.add_argument("--accept-new-keys", action="store_true",
                        help="with --auth: trust any key a host offers (and append it to --adb-keys)")
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
    except BenchError as error:
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
        faults=FaultPlan(drop_after_commands=args.drop_after_commands, drop_after_bytes=args.drop_after_bytes),
    )


if __name__ == "__main__":
    sys.exit(main())
