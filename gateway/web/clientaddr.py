"""The client address of a request: the socket's peer, or what trusted proxies in front say it is.

A request straight from the client is believed by its socket address alone; any ``X-Forwarded-For`` it carries
was written by the client and is ignored. A request whose peer is in ``trusted_proxies`` (a load balancer, Caddy)
has its client taken from ``X-Forwarded-For``, read from the right: each proxy appends the address it received the
request from, so the right-most entries are the ones trusted proxies wrote, and the first entry that is not a
trusted proxy is the client. Entries to the left of it were written by the client and could say anything. This is
the convention of Granian's, uvicorn's and Werkzeug's proxy-header handling.

An entry that is not an address ends the walk with ``None``: the client is unknown, which no allowlist admits.
When every entry is a trusted proxy, the left-most one is the client (a request from inside the proxies' own
network).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED_FOR = b"x-forwarded-for"


def parse_address(text: str) -> Address | None:
    """An address as a header or a socket gives it (``[::1]``, ``::ffff:10.0.0.1``), or ``None``."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; allowlists are written in IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The ``trusted_proxies`` networks, compiled once."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks: tuple[Network, ...] = tuple(ipaddress.ip_network(text) for text in networks)

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self._networks)

    def client_address(self, scope: Scope) -> Address | None:
        """Who sent the request, as far as it can be believed; ``None`` when nobody can say."""
        client = scope.get("client")
        peer = parse_address(client[0]) if client else None
        if peer is None or not self._networks or not self.trusts(peer):
            return peer
        forwarded = [
            entry.strip()
            for name, value in scope["headers"]
            if name == _FORWARDED_FOR
            for entry in value.decode("latin-1").split(",")
        ]
        chain = [entry for entry in forwarded if entry]
        if not chain:
            return peer
        for entry in reversed(chain):
            address = parse_address(entry)
            if address is None:
                return None
            if not self.trusts(address):
                return address
        return parse_address(chain[0])
