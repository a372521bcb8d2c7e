"""Processes of this host: whether a pid still lives (for leftover folders and locks of dead sweeps)."""

import os


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (also one of another user, which we may not signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
