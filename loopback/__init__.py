"""A loopback ADB device: the device side of ADB on 127.0.0.1, running commands on this host.

For CI and for users without a phone. The device's /data/local/tmp is a sandbox folder (commands and
sync paths are rewritten to it), `getprop` answers this host's facts, /proc and /sys are the host's own.
Services: shell (v1 and v2), exec, sync (STAT, LIST, SEND, RECV, QUIT); authentication is optional.

Access: only peers running as this user (checked on the peer's socket), on 127.0.0.0/8 unless auth with
a key list is on; at most 16 connections; one with no open stream is closed after 300 s of silence.
Sync paths resolve (symlinks included) inside the sandbox, or, for reads, inside the CPU and thermal
facts of /proc and /sys (storage.SYNC_READABLE_ROOTS); commands get only PATH, HOME, TMPDIR and PWD.
bench.adb.target.loopback_device_for_run() makes the device `--serial loopback` uses: it accepts only
a key pair made for the run.

    with LoopbackDevice("/tmp/sandbox") as device:
        connection = bench.adb.connection.connect(device.serial)

or, in a terminal: `python -m loopback --port 5555 --sandbox DIR [--auth --adb-keys FILE]`
(the adb server lists a device on an odd port 5555-5585 by itself, as emulator-(port-1)).

Faults for tests: storage_quota_bytes, FaultPlan(drop_after_commands, drop_after_bytes),
device.drop_connections(), device.refuse_connections(duration_s).
"""

from loopback.device import LoopbackDevice
from loopback.faults import FaultPlan

__all__ = ["LoopbackDevice", "FaultPlan"]
