"""Where device paths land on this host: /data/local/tmp is the sandbox folder, other paths are the host's own.

The shell user of a phone may write only under /data/local/tmp; reads elsewhere are allowed.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

DEVICE_TMP_DIR = "/data/local/tmp"
DEVICE_DATA_MOUNT = "/data"

# /data/local/tmp as a whole path component: followed by '/', the end, or a character that cannot be in a name here.
_DEVICE_TMP_PATTERN = re.compile(re.escape(DEVICE_TMP_DIR) + r"(?=/|$|[^A-Za-z0-9._-])")
_SAFE_SANDBOX_PATH = re.compile(r"^[A-Za-z0-9/._+,:@%-]+$")


def sandbox_path_is_safe(path: Path) -> bool:
    """True when the path can be pasted into a shell command unquoted (no spaces, quotes or `$`)."""
    return bool(_SAFE_SANDBOX_PATH.match(str(path)))


@dataclass(frozen=True)
class DevicePath:
    host_path: Path
    writable: bool


class DeviceStorage:
    """Maps device paths to host paths and keeps the sandbox within its quota."""

    def __init__(self, sandbox: Path, quota_bytes: int | None):
        self.sandbox = sandbox
        self.quota_bytes = quota_bytes

    def rewrite_command(self, command: str) -> str:
        """Replace every /data/local/tmp in a shell command with the sandbox folder."""
        return _DEVICE_TMP_PATTERN.sub(lambda _match: str(self.sandbox), command)

    def resolve(self, device_path: str) -> DevicePath:
        normalized = posixpath.normpath("/" + device_path.lstrip("/")) if device_path else "/"
        if normalized == DEVICE_TMP_DIR or normalized.startswith(DEVICE_TMP_DIR + "/"):
            relative = normalized[len(DEVICE_TMP_DIR):].lstrip("/")
            return DevicePath(self.sandbox / relative if relative else self.sandbox, writable=True)
        return DevicePath(Path(normalized), writable=False)

    def used_bytes(self, excluding: Path | None = None) -> int:
        """Apparent size of every file in the sandbox (the one at `excluding` left out)."""
        total = 0
        for folder, _dirs, files in os.walk(self.sandbox):
            for name in files:
                path = Path(folder) / name
                if excluding is not None and path == excluding:
                    continue
                try:
                    total += path.lstat().st_size
                except OSError:
                    continue
        return total

    def free_bytes(self, replacing: Path | None = None) -> int | None:
        """Bytes a new file may take under the quota (None = no quota)."""
        if self.quota_bytes is None:
            return None
        return max(0, self.quota_bytes - self.used_bytes(excluding=replacing))
