"""A loopback ADB device: speaks the device side of ADB on 127.0.0.1 and runs commands on this host.

For CI and for users without a phone: /data/local/tmp is a sandbox folder, `getprop` answers this host's facts.
"""

from bench.loopback.device import LoopbackDevice
from bench.loopback.faults import FaultPlan

__all__ = ["LoopbackDevice", "FaultPlan"]
