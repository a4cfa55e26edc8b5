"""A workspace's IP allowlist: CIDR networks the management API accepts clients from.

Entries are stored in their normal form (``ipaddress``'s text of the network): ``10.0.0.0/8``, ``2001:db8::/32``.
A bare address is a network of one (``203.0.113.7`` is ``203.0.113.7/32``). A network written with host bits
set (``10.0.0.1/8``) is refused rather than widened silently: it is almost always a typo for a narrower one.

An IPv4-mapped IPv6 client (``::ffff:203.0.113.7``, what a dual-stack socket reports for an IPv4 peer) is
matched in both forms, so an IPv4 entry covers it as well as an IPv6 one does. An empty list allows every
address; text that is no address is allowed by no list.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from gateway.addresses import Networks

MAX_ENTRIES = 100


def normalise_network(text: str) -> str:
    """The stored form of one entry, or ``ValueError`` saying what is wrong (the entry is not repeated)."""
    entry = text.strip()
    try:
        return str(ipaddress.ip_network(entry, strict=True))
    except ValueError:
        pass
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError("an IP allowlist entry is an address or a CIDR network such as 203.0.113.0/24") from None
    raise ValueError("an IP allowlist network has host bits set (like 192.0.2.1/24): write its network address")


def check_allowlist(entries: Iterable[str]) -> tuple[str, ...]:
    """Every entry in normal form, duplicates dropped, in the order given."""
    normal = tuple(dict.fromkeys(normalise_network(entry) for entry in entries))
    if len(normal) > MAX_ENTRIES:
        raise ValueError(f"an IP allowlist holds at most {MAX_ENTRIES} networks")
    return normal


@functools.lru_cache(maxsize=1024)
def _compiled(entries: tuple[str, ...]) -> Networks:
    return Networks(entries)


def address_allowed(entries: tuple[str, ...], address: str) -> bool:
    """True when ``entries`` is empty or one of them holds ``address`` (``gateway.addresses`` matches it)."""
    if not entries:
        return True
    try:
        # As written, not unwrapped: a mapped address matches both forms, a plain IPv4 one no mapped network.
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return parsed in _compiled(entries)
