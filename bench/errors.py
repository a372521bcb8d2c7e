"""One error root for everything bench/ raises; the CLI turns these into one line and an exit code."""


class BenchError(Exception):
    """Root of every error raised by bench/. The message says what went wrong and what to do."""


class DeviceUnreachable(BenchError):
    """No device answered at the given serial (not connected, wrong address, adbd not running)."""


class DeviceBusy(BenchError):
    """Another program (usually the adb server) already holds the device."""


class DeviceInUse(BenchError):
    """Another sweep holds the device's sweep lock (bench.sweep.device_lock), or took it from this one."""


class AuthenticationFailed(BenchError):
    """The device refused our key, or the key could not be read or created."""


class DeviceLost(BenchError):
    """The connection dropped while talking to the device."""


class DeviceCommandFailed(BenchError):
    """A device shell command returned a non-zero exit code.

    Carries the command, its exit code and its raw output.
    """

    def __init__(self, message: str, *, command: str = "", exit_code: int | None = None, output: str = ""):
        super().__init__(message)
        self.command = command
        self.exit_code = exit_code
        self.output = output


class TransferFailed(BenchError):
    """A push or pull did not complete (device refused the path, storage full, lost connection)."""


class UnsupportedDevice(BenchError):
    """The device's ABI or platform has no runner build."""


class InsufficientStorage(BenchError):
    """The device has too little free space for what must be pushed."""


class CoreUnavailable(BenchError):
    """The requested CPU core is not online on the device."""


class SweepStopped(BenchError):
    """The sweep stopped before the end (device lost for good); the rows measured so far are kept.

    Carries the run id so that the caller can print the resume command.
    """

    def __init__(self, message: str, *, run_id: str):
        super().__init__(message)
        self.run_id = run_id


class LoopbackStartFailed(BenchError):
    """The loopback ADB device that a run starts for itself could not start (its own LoopbackDeviceError says why)."""


class SettingsError(BenchError):
    """A sweep setting is out of range (iterations, launches, cool-down, core, ...)."""


class CommandTimedOut(DeviceCommandFailed):
    """A device shell command did not finish within its timeout (the connection was reset to end it)."""


class TransferOutOfSpace(InsufficientStorage, TransferFailed):
    """A push failed because the device ran out of space (caught as either parent)."""


class AdbServerUnavailable(DeviceUnreachable):
    """The adb server named (--adb-server, ANDROID_ADB_SERVER_HOST/PORT, default 127.0.0.1:5037) does not answer,
    or is too old for this harness."""
