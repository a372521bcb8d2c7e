"""A minimal host side of the ADB protocol for the loopback device tests (module name unique in tests/)."""

from __future__ import annotations

import socket

from loopback import wire


class RawHost:
    """Connects and sends CNXN; read() returns the device's next message (PeerClosed once it closed)."""

    def __init__(self, port: int, timeout_s: float = 10, version: int = wire.VERSION_CHECKSUMMED):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.send(wire.Message(wire.CNXN, version, wire.MAX_PAYLOAD_BYTES, b"host::\0"))

    def send(self, message: wire.Message) -> None:
        self.sock.sendall(message.encode())

    def read(self) -> wire.Message:
        return wire.read_message(self.sock, verify_checksum=True, max_payload_bytes=wire.MAX_PAYLOAD_BYTES)

    def open(self, local_id: int, service: str) -> wire.Message:
        self.send(wire.Message(wire.OPEN, local_id, 0, service.encode() + b"\0"))
        return self.read()

    def read_stream(self, local_id: int, remote_id: int) -> bytes:
        """Collect WRTE data (acknowledging each) until the device closes the stream."""
        data = bytearray()
        while True:
            message = self.read()
            if message.command == wire.WRTE:
                data += message.payload
                self.send(wire.Message(wire.OKAY, local_id, remote_id))
            elif message.command == wire.CLSE:
                return bytes(data)

    def close(self) -> None:
        self.sock.close()
