"""Which local user opened a TCP connection: the owning uid of the peer's socket, from /proc/net/tcp(6).

TCP has no SO_PEERCRED. A connection from this host has two entries in the kernel's socket tables: ours
(local = listener address, remote = peer) and the peer's own (local = peer address, remote = listener), and
the peer's entry carries its owner's uid. A peer on another machine has no such entry (None).
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_V4_MAPPED_PREFIX = "0000000000000000FFFF0000"


def _hex_ipv4(address: str) -> str:
    """The kernel's text for an IPv4 address: the 32-bit network-order value printed as a native integer."""
    return f"{struct.unpack('=I', socket.inet_aton(address))[0]:08X}"


def _endpoint(address: str, port: int) -> str:
    return f"{_hex_ipv4(address)}:{port:04X}"


def _as_ipv4_endpoint(text: str) -> str:
    """tcp6 entries of IPv4-mapped addresses (::ffff:a.b.c.d) as tcp entries; other text unchanged."""
    address, _, port = text.partition(":")
    if len(address) == 32 and address.upper().startswith(_V4_MAPPED_PREFIX):
        return f"{address[-8:].upper()}:{port.upper()}"
    return text.upper()


def peer_uid(sock: socket.socket, tables: tuple[Path, ...] = TCP_TABLES) -> int | None:
    """The uid owning the other end of an accepted IPv4 TCP socket, or None when it is not on this host."""
    peer_address, peer_port = sock.getpeername()[:2]
    own_address, own_port = sock.getsockname()[:2]
    peer = _endpoint(peer_address, peer_port)
    own = _endpoint(own_address, own_port)
    for table in tables:
        try:
            lines = table.read_text(encoding="ascii", errors="replace").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 8:
                continue
            if _as_ipv4_endpoint(fields[1]) == peer and _as_ipv4_endpoint(fields[2]) == own and fields[7].isdigit():
                return int(fields[7])
    return None
