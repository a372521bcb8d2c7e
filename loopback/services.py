"""Which service an OPEN names, and what runs it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from loopback.shell_service import ShellEnvironment, run_shell_v1, run_shell_v2
from loopback.stream import Stream
from loopback.sync_service import SyncSession


def service_runner(service: str, environment: ShellEnvironment) -> Callable[[Stream], None] | None:
    """The function that serves `service` on a stream, or None to refuse it (the host sees CLSE)."""
    name, colon, argument = service.partition(":")
    if not colon:
        return None
    kind, *options = name.split(",")
    if kind == "shell":
        run = run_shell_v2 if "v2" in options else run_shell_v1
        return partial(_run_command, run, argument, environment)
    if kind == "exec" and not options:
        return partial(_run_command, run_shell_v1, argument, environment)
    if kind == "sync" and not options and not argument:
        return lambda stream: SyncSession(stream, environment.storage).run()
    return None


def _run_command(run, command: str, environment: ShellEnvironment, stream: Stream) -> None:
    run(stream, command, environment)
