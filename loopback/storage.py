"""Where sync paths land on this host: /data/local/tmp is the sandbox folder; a few system facts are readable.

The shell user of a phone writes only under /data/local/tmp. Through the sync service this device also lets
it read (pull, stat, list) the host's CPU and thermal facts in /proc and /sys (SYNC_READABLE_ROOTS) and
nothing else: every path is resolved, symlinks included, before it is allowed, so `..`, absolute paths and
links pushed into the sandbox cannot reach the rest of the host. (Shell commands run as this host's user
and are no jail; only their working directory and environment are the sandbox's.)
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

DEVICE_TMP_DIR = "/data/local/tmp"
DEVICE_DATA_MOUNT = "/data"

# Outside the sandbox, sync may read these (and what is below them, after resolving symlinks): the CPU,
# frequency and thermal facts a phone's shell user can read too. Not /proc/self: that is this device's
# own process (its environment included), not the device shell's.
SYNC_READABLE_ROOTS = (
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/version",
    "/proc/loadavg",
    "/proc/uptime",
    "/sys/devices/system/cpu",
    "/sys/class/thermal",
    "/sys/devices/virtual/thermal",
)

# /data/local/tmp as a whole path component: followed by '/', the end, or a character that cannot be in a name here.
_DEVICE_TMP_PATTERN = re.compile(re.escape(DEVICE_TMP_DIR) + r"(?=/|$|[^A-Za-z0-9._-])")
_SAFE_SANDBOX_PATH = re.compile(r"^[A-Za-z0-9/._+,:@%-]+$")


def sandbox_path_is_safe(path: Path) -> bool:
    """True when the path can be pasted into a shell command unquoted (no spaces, quotes or `$`)."""
    return bool(_SAFE_SANDBOX_PATH.match(str(path)))


@dataclass(frozen=True)
class DevicePath:
    """A device path's place on this host. writable: inside the sandbox once resolved; readable: that, or
    inside one of SYNC_READABLE_ROOTS. A path that is neither is refused by the sync service."""

    host_path: Path
    writable: bool
    readable: bool = False


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class DeviceStorage:
    """Maps device paths to host paths and keeps the sandbox within its quota."""

    def __init__(self, sandbox: Path, quota_bytes: int | None):
        self.sandbox = sandbox
        self.quota_bytes = quota_bytes

    def rewrite_command(self, command: str) -> str:
        """Replace every /data/local/tmp in a shell command with the sandbox folder."""
        return _DEVICE_TMP_PATTERN.sub(lambda _match: str(self.sandbox), command)

    def resolve(self, device_path: str) -> DevicePath:
        """Map a device path to this host; symlinks are followed to decide whether it stays allowed."""
        if "\0" in device_path:
            return DevicePath(Path("/"), writable=False, readable=False)
        normalized = posixpath.normpath("/" + device_path.lstrip("/")) if device_path else "/"
        if _within(normalized, DEVICE_TMP_DIR):
            relative = normalized[len(DEVICE_TMP_DIR):].lstrip("/")
            host_path = self.sandbox / relative if relative else self.sandbox
        else:
            host_path = Path(normalized)
        real = os.path.realpath(host_path)
        inside = _within(real, os.path.realpath(self.sandbox))
        readable = inside or any(_within(real, root) for root in SYNC_READABLE_ROOTS)
        return DevicePath(host_path, writable=inside, readable=readable)

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
