"""The ways of reaching a device, each implementing bench.adb.device.Device: ``direct`` (adb-shell, no adb
server) and ``server`` (the adb server's host protocol)."""
