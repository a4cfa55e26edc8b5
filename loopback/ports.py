"""A loopback port nothing listens on, for a server that must be told its port or a connection that must fail."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel just handed out and took back: free now, not reserved.

    Where a server can take a bound socket (aiohttp's ``SockSite``), bind port 0 and keep the socket
    instead; this is for children that are told their port, and for "nothing answers here" tests.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
