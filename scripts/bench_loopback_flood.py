"""Memory of the loopback device under a greedy host: WRTE messages flooded to a command that reads no stdin.

Starts `python -m loopback` (from this checkout, or from --repo for a side-by-side comparison with another
one) in its own process, opens `shell:sleep 600` and sends --flood-mib MiB of 1 MiB WRTE payloads without
waiting for OKAY, as a host ignoring flow control would. Prints the device process's resident memory before,
its peak (VmHWM) and after, and whether the device closed the stream and still answers a new connection.

    .venv/bin/python -m scripts.bench_loopback_flood [--flood-mib 400] [--repo /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loopback import wire

REPO = Path(__file__).resolve().parents[1]


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(value) for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, flags=re.M)}


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(wire.Message(wire.CNXN, wire.VERSION_CHECKSUMMED, wire.MAX_PAYLOAD_BYTES, b"host::\0").encode())
    reply = wire.read_message(sock, verify_checksum=True, max_payload_bytes=wire.MAX_PAYLOAD_BYTES)
    assert reply.command == wire.CNXN, reply
    return sock


def drain(sock: socket.socket, local_id: int) -> bool:
    """Read what the device sent so far; True once it closed stream local_id."""
    closed = False
    while select.select([sock], [], [], 0)[0]:
        message = wire.read_message(sock, verify_checksum=True, max_payload_bytes=wire.MAX_PAYLOAD_BYTES)
        closed = closed or (message.command == wire.CLSE and message.arg1 == local_id)
    return closed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood-mib", type=int, default=400)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose loopback package to run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as sandbox:
        device = subprocess.Popen([sys.executable, "-m", "loopback", "--port", "0", "--sandbox", sandbox],
                                  cwd=args.repo, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert device.stdout is not None
            listening = re.search(r"127\.0\.0\.1:(\d+)", device.stdout.readline())
            if listening is None:
                raise SystemExit(f"the loopback device of {args.repo} did not say where it listens")
            port = int(listening.group(1))
            sock = connect(port)
            time.sleep(0.5)
            before = memory_kib(device.pid)
            sock.sendall(wire.Message(wire.OPEN, 7, 0, b"shell:sleep 600\0").encode())
            okay = wire.read_message(sock, verify_checksum=True, max_payload_bytes=wire.MAX_PAYLOAD_BYTES)
            payload = wire.Message(wire.WRTE, 7, okay.arg0, b"x" * wire.MAX_PAYLOAD_BYTES).encode()
            closed_after_mib = None
            started = time.monotonic()
            for mib in range(1, args.flood_mib + 1):
                sock.sendall(payload)
                if closed_after_mib is None and drain(sock, 7):
                    closed_after_mib = mib
            time.sleep(1.0)  # let the device take what is in flight
            flood_s = time.monotonic() - started
            if closed_after_mib is None and drain(sock, 7):
                closed_after_mib = args.flood_mib
            after = memory_kib(device.pid)
            sock.close()
            connect(port).close()  # raises when the device no longer answers
            answers = True
            print(f"loopback device from {args.repo}: {args.flood_mib} MiB of WRTE to a sleeping shell in {flood_s:.1f} s")
            print(f"  RSS before {before['VmRSS'] / 1024:.0f} MiB, peak {after['VmHWM'] / 1024:.0f} MiB, "
                  f"after {after['VmRSS'] / 1024:.0f} MiB")
            print(f"  stream closed by the device: {'after ' + str(closed_after_mib) + ' MiB' if closed_after_mib else 'no'};"
                  f" device answers a new connection: {answers}")
        finally:
            device.send_signal(signal.SIGTERM)
            device.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
