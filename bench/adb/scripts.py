"""Run a small POSIX shell script on the device and split its output into named sections.

Every device probe in bench/ is one round trip: a script that prints ``@@name`` lines
before each part, run through ``sh -c`` so that the connection quotes it as one argument.
"""

from __future__ import annotations

from bench.adb.device import Device, ShellResult

SECTION_PREFIX = "@@section:"


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
