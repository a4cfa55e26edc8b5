"""IP addresses as requests give them, and sets of networks to check them against: one reader each.

``peer_address`` is the socket's peer of an ASGI scope; ``parse_address`` reads an address as a header or a
socket writes it (``[::1]``, ``::ffff:10.0.0.1``); ``Networks`` is a compiled list of CIDR networks (trusted
proxies, metrics and TLS-ask networks, a workspace's IP allowlist). Every place that asks "who is this" or
"is it in that list" asks here, so an IPv4 peer on a dual-stack socket is matched the same way everywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

from starlette.types import Scope

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> Address | None:
    """An address as a header or a socket gives it (``[::1]``, ``::ffff:10.0.0.1``), or ``None``."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; lists are mostly written in IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_address(scope: Scope) -> Address | None:
    """The socket's peer of the request (no header consulted), or ``None`` when the server gives none."""
    client = scope.get("client")
    return parse_address(client[0]) if client else None


class Networks:
    """CIDR networks compiled once; ``address in networks``. An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``)
    matches in both its forms, so an IPv4 entry covers it; a plain IPv4 address is no mapped one. ``None`` (an
    unknown client) is in no list."""

    __slots__ = ("_networks",)

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._networks: tuple[Network, ...] = tuple(ipaddress.ip_network(text.strip()) for text in texts)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        forms: tuple[Address, ...] = (address,)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            forms = (address, address.ipv4_mapped)
        return any(form in network for network in self._networks for form in forms)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def __iter__(self) -> Iterator[Network]:
        return iter(self._networks)

    def __len__(self) -> int:
        return len(self._networks)
