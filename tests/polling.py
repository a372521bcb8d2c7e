"""Waiting in tests for something another process does."""

import time


def wait_for(condition, what: str, timeout_s: float, interval_s: float = 0.1):
    """The first truthy value of `condition()`, polled every `interval_s`; AssertionError naming `what` once
    `timeout_s` has passed without one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"{what} did not happen within {timeout_s} s")
