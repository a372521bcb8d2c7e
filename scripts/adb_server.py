"""A private instance of Debian's adb server (its own port and HOME), to drive the loopback device
with the real adb client in tests and benchmarks without touching the user's own adb server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.errors import DeviceUnreachable


def free_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_server(port: int, server: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise DeviceUnreachable(f"the adb server did not start on port {port}; "
                                        f"check that `adb version` works") from None
            time.sleep(0.05)


@contextlib.contextmanager
def private_adb_server(adb: str, home: Path, start_timeout_s: float = 10) -> Iterator[dict[str, str]]:
    """Start `adb nodaemon server` on a free port with HOME=home; yield the environment for adb
    commands that talk to it; kill it on the way out."""
    port = free_local_port()
    env = dict(os.environ, HOME=str(home), ANDROID_ADB_SERVER_PORT=str(port))
    env.pop("ANDROID_SERIAL", None)
    server = subprocess.Popen([adb, "nodaemon", "server"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_server(port, server, start_timeout_s)
        yield env
    finally:
        subprocess.run([adb, "kill-server"], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
