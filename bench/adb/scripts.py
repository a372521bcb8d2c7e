"""Run a small POSIX shell script on the device and split its output into named sections.

Every device probe in bench/ is one round trip: a script that prints ``@@name`` lines
before each part, run through ``sh -c`` so that the connection quotes it as one argument.
"""

from __future__ import annotations

import shlex

from bench.adb.device import Device, ShellResult
from bench.adb.serials import DeviceSerial

SECTION_PREFIX = "@@section:"
COMMAND_SUMMARY_CHARS = 60


ShellConnection = Device  # what the probes and the sweep take: the device contract (bench.adb.device)


def run_script(connection: ShellConnection, script: str, timeout_s: float = 60) -> ShellResult:
    """Run ``script`` with the device's ``sh``; returns the connection's shell result."""
    return connection.shell(["sh", "-c", script], timeout_s=timeout_s)


def section_marker(name: str) -> str:
    """The shell line that starts section ``name`` in a script's output."""
    return f"echo '{SECTION_PREFIX}{name}'"


def split_sections(output: str) -> dict[str, str]:
    """Map section name -> its text (without the marker line). Text before the first marker is dropped."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.replace("\r\n", "\n").split("\n"):
        if line.startswith(SECTION_PREFIX):
            current = sections.setdefault(line[len(SECTION_PREFIX):].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip("\n") for name, lines in sections.items()}


def command_summary(command: str) -> str:
    """A short, one-line name of a device command for messages: a `sh -c SCRIPT` shows the script's first
    command (its section markers left out), anything longer than COMMAND_SUMMARY_CHARS is cut with `...`."""
    text = command
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if len(words) == 3 and words[:2] == ["sh", "-c"]:
        lines = [line.strip() for line in words[2].splitlines() if line.strip()]
        lines = [line for line in lines if SECTION_PREFIX not in line] or lines or [""]
        text = f"sh -c {lines[0]}" + (" ..." if len(lines) > 1 else "")
    text = " ".join(text.split())
    return text if len(text) <= COMMAND_SUMMARY_CHARS else text[:COMMAND_SUMMARY_CHARS - 3] + "..."


def timed_out_message(serial: DeviceSerial, command: str, timeout_s: float) -> str:
    return (f"{serial.text} gave no answer to `{command_summary(command)}` within {timeout_s:g} s "
            f"(the command was ended): check that the device is awake and that `adb -s {serial.text} "
            "shell echo ok` answers, then run again")
