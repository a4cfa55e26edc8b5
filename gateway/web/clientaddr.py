"""The client of a request, and what trusted proxies in front say about it: one walk, read from the right.

A request straight from the client is believed by its socket address alone (``gateway.addresses.peer_address``);
any ``X-Forwarded-For``, ``X-Forwarded-Host`` or ``X-Forwarded-Proto`` it carries was written by the client and is
ignored. A request whose peer is in ``trusted_proxies`` (a load balancer, Caddy) has its client taken from
``X-Forwarded-For``, read from the right: each proxy appends the address it received the request from, so the
right-most entries are the ones trusted proxies wrote, and the first entry that is not a trusted proxy is the
client. Entries to the left of it were written by the client and could say anything. This is the convention of
Granian's, uvicorn's and Werkzeug's proxy-header handling.

The same walk counts the trusted proxies the request came through (``Hops.proxies``), and ``forwarded`` uses that
count for the headers that say the client's Host and scheme: of a list each proxy appends to, the entry the
outermost trusted proxy wrote, ``proxies`` from the right; entries further left came from the client. A proxy
that overwrites the header instead leaves fewer entries than proxies: then every entry is a proxy's and the
left-most is the outermost one's.

An entry of ``X-Forwarded-For`` that is not an address ends the walk with no client: the client is unknown, which
no allowlist admits, and ``forwarded`` says nothing. When every entry is a trusted proxy, the left-most one is the
client (a request from inside the proxies' own network).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

from gateway.addresses import Address, Networks, parse_address, peer_address

__all__ = ["Address", "Hops", "TrustedProxies", "carries_forwarding"]

_FORWARDED_FOR = b"x-forwarded-for"
_FORWARDING = frozenset((_FORWARDED_FOR, b"forwarded"))


def carries_forwarding(scope: Scope) -> bool:
    """Whether the request carries ``X-Forwarded-For`` or ``Forwarded``: it came through some proxy, so its
    peer address is that proxy's, not the asker's."""
    return any(name in _FORWARDING for name, _ in scope.get("headers") or ())


@dataclass(frozen=True, slots=True)
class Hops:
    # Who sent the request, as far as it can be believed; None when nobody can say.
    client: Address | None
    # Trusted proxies the request passed through (the peer included); 0 when it came straight from the client.
    proxies: int


class TrustedProxies:
    """The ``trusted_proxies`` networks, compiled once."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = Networks(networks)

    def trusts(self, address: Address | None) -> bool:
        return address in self._networks

    def walk(self, scope: Scope) -> Hops:
        peer = peer_address(scope)
        if peer is None or not self.trusts(peer):
            return Hops(peer, 0)
        chain = [
            entry.strip()
            for name, value in scope["headers"]
            if name == _FORWARDED_FOR
            for entry in value.decode("latin-1").split(",")
            if entry.strip()
        ]
        proxies = 1
        for entry in reversed(chain):
            address = parse_address(entry)
            if address is None:
                return Hops(None, proxies)
            if not self.trusts(address):
                return Hops(address, proxies)
            proxies += 1
        if not chain:
            return Hops(peer, 1)
        return Hops(parse_address(chain[0]), len(chain))

    def client_address(self, scope: Scope) -> Address | None:
        """Who sent the request, as far as it can be believed; ``None`` when nobody can say."""
        return self.walk(scope).client

    def forwarded(self, scope: Scope, value: str | None) -> str | None:
        """The entry of a forwarding list header (``X-Forwarded-Host``, ``X-Forwarded-Proto``, its lines joined
        with commas) that the outermost trusted proxy wrote; None when no trusted proxy sent it."""
        if value is None:
            return None
        hops = self.walk(scope)
        if hops.proxies == 0 or hops.client is None:
            return None
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if not entries:
            return None
        return entries[max(0, len(entries) - hops.proxies)]
