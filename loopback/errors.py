"""The loopback device's one error class: it is the far end of the wire and shares no code with the client."""


class LoopbackDeviceError(Exception):
    """The loopback ADB device could not start or was misconfigured (sandbox, port, key list).

    The message says what went wrong and what to do."""
