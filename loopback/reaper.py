"""The commands a loopback device started die with it, even when its process is killed (kill -9).

Each command runs in a session of its own (its pid is the session id), which holds every process it starts,
also those in process groups of their own (`timeout` makes one). A small watcher process, started with the
device, is told every session that starts and ends over a pipe; when the pipe closes, because the device
stopped or because its process died, the watcher kills every process of the sessions still listed. A phone does the like when its adb connection drops; the loopback device, living in the
sweep's own process, would otherwise leave the runner going on the pinned core.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

WATCHER_CODE = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
sessions = set()
for line in sys.stdin:
    sign, number = line[:1], line[1:].strip()
    if number.isdigit():
        (sessions.add if sign == "+" else sessions.discard)(int(number))
for _ in range(20 if sessions else 0):  # again while a member forks or makes a group of its own meanwhile
    killed = 0
    for name in os.listdir("/proc"):
        try:
            with open("/proc/" + name + "/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[3]) in sessions and fields[0] not in "ZX":
                os.killpg(int(fields[2]), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError, IndexError):
            pass
    if not killed:
        break
"""


class SessionReaper:
    """Tells the watcher process which sessions to kill if this process goes away."""

    def __init__(self) -> None:
        self._watcher: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _pipe(self):
        if self._watcher is None or self._watcher.poll() is not None:
            self._watcher = subprocess.Popen([sys.executable, "-S", "-c", WATCHER_CODE], stdin=subprocess.PIPE,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             start_new_session=True, text=True, close_fds=True)
        return self._watcher.stdin

    def _send(self, line: str) -> None:
        with self._lock:
            try:
                pipe = self._pipe()
                pipe.write(line)
                pipe.flush()
            except OSError:
                pass  # no watcher: the device still kills its sessions when it stops normally

    def watch(self, session: int) -> None:
        self._send(f"+{session}\n")

    def forget(self, session: int) -> None:
        self._send(f"-{session}\n")

    def close(self) -> None:
        """Let the watcher go (it kills the sessions still listed, then exits)."""
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher.stdin is not None:
            try:
                watcher.stdin.close()
            except OSError:
                pass
            try:
                watcher.wait(timeout=5)
            except subprocess.TimeoutExpired:
                watcher.kill()


def session_members(session: int) -> list[int]:
    """The pids of the live (not zombie) processes in `session` (Linux /proc), the leader included."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] not in ("Z", "X"):
                members.append(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return members
