"""The `shell:` (v1) and `shell,v2,...:` services: run a command with `sh -c` in the sandbox.

v1 merges stdout and stderr and ends with CLSE. v2 frames every chunk as id(u8) + length(u32 LE) + data:
0 stdin, 1 stdout, 2 stderr, 3 exit code (one byte), 4 close stdin, 5 window size.
"""

from __future__ import annotations

import os
import selectors
import signal
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from loopback.reaper import SessionReaper, session_members
from loopback.storage import DeviceStorage
from loopback.stream import Stream, StreamClosed

V2_STDIN = 0
V2_STDOUT = 1
V2_STDERR = 2
V2_EXIT = 3
V2_CLOSE_STDIN = 4
V2_WINDOW_SIZE = 5
_V2_HEADER = struct.Struct("<BI")
_READ_CHUNK_BYTES = 64 * 1024
MAX_V2_PACKET_BYTES = 1024 * 1024  # a shell v2 packet longer than the largest ADB payload is not believed


def v2_packet(packet_id: int, data: bytes) -> bytes:
    return _V2_HEADER.pack(packet_id, len(data)) + data


def exit_status_byte(returncode: int) -> int:
    """adbd's exit byte: the exit code, or 0x80 | signal for a killed process."""
    if returncode < 0:
        return 0x80 | (-returncode & 0x7F)
    return returncode & 0xFF


# The system folders of the device shell's PATH (after the shims); nothing of the host's own PATH.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


@dataclass
class ShellEnvironment:
    """How device commands run on this host: in the sandbox, with a minimal environment of their own."""

    storage: DeviceStorage
    shim_dir: Path
    processes: ProcessRegistry

    def env(self) -> dict[str, str]:
        """PATH (shims first), HOME, TMPDIR and PWD in the sandbox; nothing from this host's environment."""
        sandbox = str(self.storage.sandbox)
        return {
            "PATH": f"{self.shim_dir}{os.pathsep}{SYSTEM_PATH}",
            "HOME": sandbox,
            "TMPDIR": sandbox,
            "PWD": sandbox,
        }

    def start(self, command: str, *, merge_stderr: bool) -> subprocess.Popen:
        argv = ["sh", "-c", self.storage.rewrite_command(command)] if command.strip() else ["sh"]
        process = subprocess.Popen(
            argv,
            cwd=self.storage.sandbox,
            env=self.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,
        )
        self.processes.add(process)
        return process


class ProcessRegistry:
    """Every command still running on the device, so the device can end them all when it stops."""

    def __init__(self) -> None:
        self._processes: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._reaper = SessionReaper()  # kills the sessions left if this process dies (loopback.reaper)

    def add(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._processes.add(process)
        self._reaper.watch(process.pid)  # started with start_new_session: its pid is its session id

    def remove(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._processes.discard(process)
        self._reaper.forget(process.pid)

    def kill_all(self) -> None:
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            kill_process_group(process)
        self._reaper.close()


def kill_process_group(process: subprocess.Popen) -> None:
    """End the command and everything it started: its session (it was started with start_new_session), which
    also holds the process groups its children made (`timeout` makes one)."""
    if process.poll() is not None:
        return
    groups = {process.pid}
    for _ in range(20):  # again while a member forks or makes a group of its own meanwhile
        for pid in session_members(process.pid):
            try:
                groups.add(os.getpgid(pid))
            except OSError:
                pass
        if not groups:
            return
        for group in groups:  # a whole group at once, so that none of its members can fork away in between
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        groups = set()


def _close_quietly(pipe) -> None:
    try:
        pipe.close()
    except OSError:
        pass


def _read_or_end(stream: Stream, process: subprocess.Popen) -> bytes | None:
    """The next bytes from the host, or None once the host closed the stream (which ends the command)."""
    try:
        chunk = stream.read()
    except StreamClosed:
        chunk = None
    if chunk is None:
        kill_process_group(process)
    return chunk


def _end_with_the_stream(stream: Stream, process: subprocess.Popen) -> None:
    """The host closing the stream (or overflowing it) ends the command, even while its stdin is full."""
    stream.when_host_closes(lambda: kill_process_group(process))


def _pump_v1_stdin(stream: Stream, process: subprocess.Popen) -> None:
    """Host bytes go to the command's stdin; the host closing the stream ends the command."""
    stdin = process.stdin
    assert stdin is not None, "ShellEnvironment.start opens stdin as a pipe"
    while True:
        chunk = _read_or_end(stream, process)
        if chunk is None:
            return
        try:
            stdin.write(chunk)
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


def _pump_v2_stdin(stream: Stream, process: subprocess.Popen) -> None:
    stdin = process.stdin
    assert stdin is not None, "ShellEnvironment.start opens stdin as a pipe"
    pending = bytearray()
    while True:
        chunk = _read_or_end(stream, process)
        if chunk is None:
            return
        pending += chunk
        while len(pending) >= _V2_HEADER.size:
            packet_id, length = _V2_HEADER.unpack_from(pending)
            if length > MAX_V2_PACKET_BYTES:  # a host that is not speaking shell v2: end the command
                kill_process_group(process)
                try:
                    stream.close()
                except StreamClosed:
                    pass
                return
            if len(pending) < _V2_HEADER.size + length:
                break
            data = bytes(pending[_V2_HEADER.size:_V2_HEADER.size + length])
            del pending[:_V2_HEADER.size + length]
            try:
                if packet_id == V2_STDIN:
                    stdin.write(data)
                    stdin.flush()
                elif packet_id == V2_CLOSE_STDIN:
                    _close_quietly(process.stdin)
            except (BrokenPipeError, ValueError, OSError):
                pass


def _finish(environment: ShellEnvironment, process: subprocess.Popen) -> int:
    try:
        returncode = process.wait()
    finally:
        environment.processes.remove(process)
        _close_quietly(process.stdin)
    return returncode


def run_shell_v1(stream: Stream, command: str, environment: ShellEnvironment) -> None:
    process = environment.start(command, merge_stderr=True)
    _end_with_the_stream(stream, process)
    threading.Thread(target=_pump_v1_stdin, args=(stream, process), daemon=True).start()
    assert process.stdout is not None, "ShellEnvironment.start opens stdout as a pipe"
    try:
        output_fd = process.stdout.fileno()
        while chunk := os.read(output_fd, _READ_CHUNK_BYTES):
            stream.write(chunk)
    except StreamClosed:
        kill_process_group(process)
    finally:
        _close_quietly(process.stdout)
        _finish(environment, process)
    stream.close()


def run_shell_v2(stream: Stream, command: str, environment: ShellEnvironment) -> None:
    process = environment.start(command, merge_stderr=False)
    _end_with_the_stream(stream, process)
    threading.Thread(target=_pump_v2_stdin, args=(stream, process), daemon=True).start()
    assert process.stdout is not None and process.stderr is not None, "ShellEnvironment.start opens both as pipes"
    packet_ids = {process.stdout.fileno(): V2_STDOUT, process.stderr.fileno(): V2_STDERR}
    try:
        with selectors.DefaultSelector() as selector:
            for fd in packet_ids:
                selector.register(fd, selectors.EVENT_READ)
            open_fds = set(packet_ids)
            while open_fds:
                for key, _events in selector.select():
                    chunk = os.read(key.fd, _READ_CHUNK_BYTES)
                    if not chunk:
                        selector.unregister(key.fd)
                        open_fds.discard(key.fd)
                        continue
                    stream.write(v2_packet(packet_ids[key.fd], chunk))
        returncode = _finish(environment, process)
        stream.write(v2_packet(V2_EXIT, bytes([exit_status_byte(returncode)])))
    except StreamClosed:
        kill_process_group(process)
        _finish(environment, process)
    finally:
        _close_quietly(process.stdout)
        _close_quietly(process.stderr)
    stream.close()
