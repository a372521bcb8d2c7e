"""Composing device shell commands: every argument quoted, and an exit-code marker to read the status back.

adb's v1 shell service returns no exit code, so the command runs in a subshell followed by
`echo "MARKER=$?"`, and the marker is parsed off the end of the output. The subshell keeps a command
that calls `exit` from skipping the marker.
"""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

MARKER_PREFIX = "__SPLITBENCH_RC_"


def quote_argv(argv: Sequence[str]) -> str:
    """One shell command line in which each argument is a single word, whatever characters it holds."""
    if isinstance(argv, str) or not argv:
        raise ValueError("give the command as a non-empty list of arguments, e.g. ['ls', '-l', path]")
    return " ".join(shlex.quote(str(arg)) for arg in argv)


@dataclass(frozen=True)
class MarkedCommand:
    command: str  # what the caller asked for
    wire_command: str  # what is sent: the command in a subshell, then the marker echo
    marker: str

    def parse(self, output: str) -> tuple[int, str] | None:
        """(exit code, the command's own output), or None when no marker came back (the command was cut off)."""
        start = output.rfind(self.marker + "=")
        if start < 0:
            return None
        status = re.fullmatch(r"=(\d+)\r?\n?", output[start + len(self.marker):])
        if status is None:
            return None
        return int(status.group(1)), output[:start]


def mark_command(command: str) -> MarkedCommand:
    """Wrap a composed command so its exit status follows all of its output."""
    marker = f"{MARKER_PREFIX}{uuid.uuid4().hex}"
    # The newline before ')' ends a trailing comment in the command, if any.
    wire_command = f'( {command}\n); echo "{marker}=$?"'
    return MarkedCommand(command=command, wire_command=wire_command, marker=marker)
