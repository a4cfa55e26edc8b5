"""The SSRF guard: which addresses the gateway may connect to, enforced where connections are made.

Three layers, all driven by one ``NetGuard``:

- ``classify(ip)`` names why an address is not public (loopback, private, link-local, ...), looking
  through every IPv6 form that carries an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
- ``GuardedResolver`` checks every address a name resolves to before aiohttp may use any of them.
  aiohttp connects to exactly the addresses the resolver returned (and caches exactly those), so a
  DNS answer that changes between check and connect (rebinding) cannot slip through.
- ``guarded_connector`` adds a socket factory that checks the exact address of every socket before it
  connects: aiohttp skips the resolver for IP-literal hosts, so without it ``http://127.0.0.1/`` would
  never be checked.

A name that does not resolve is refused exactly like one that resolves to a non-public address
(``BlockedAddress``, same message), so the answers never reveal which names exist in an internal zone.

``host_address`` reads the numeric host forms a C resolver accepts (``2130706433``, ``0x7f.1``,
``127.1``, ``0177.0.0.1``) so callers can refuse them with a clear error before any connection.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from gateway.errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

logger = logging.getLogger(__name__)

# One answer for "resolves to a non-public address" and "does not resolve": if they differed, anyone could map
# the names of an internal DNS zone through the gateway (a name that exists inside answers one way, a made-up
# one the other). The log tells the operator which it was; the caller only learns that it cannot be used.
NO_PUBLIC_ADDRESS = "the source host has no public address"


def _v4(table: Sequence[tuple[str, str]]) -> tuple[tuple[ipaddress.IPv4Network, str], ...]:
    return tuple((ipaddress.IPv4Network(net), reason) for net, reason in table)


def _v6(table: Sequence[tuple[str, str]]) -> tuple[tuple[ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.IPv6Network(net), reason) for net, reason in table)


# IANA IPv4 special-purpose registry, minus the entries it marks globally reachable (AS112, AMT).
# First match wins, so the narrow entries come before the blocks that contain them.
_V4_SPECIAL = _v4(
    (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "this-network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "cgnat"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)

# Inside 2001::/23 (IETF protocol assignments) IANA marks these globally reachable; the rest is not.
_V6_PUBLIC_IN_IETF = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "2001:1::1/128",
        "2001:1::2/128",
        "2001:1::3/128",
        "2001:3::/32",
        "2001:4:112::/48",
        "2001:20::/28",
        "2001:30::/28",
    )
)

_V6_SPECIAL = _v6(
    (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "discard"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "reserved"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "reserved"),  # SRv6 SIDs
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def classify(ip: IPAddress) -> str | None:
    """Return None for a public address, else a short reason such as ``"loopback"``.

    An IPv6 address that carries an IPv4 address is as public as the address it carries:
    ``::ffff:127.0.0.1`` is ``"loopback via ipv4-mapped"``.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return _classify_v4(ip)
    return _classify_v6(ip)


def _classify_v4(ip: ipaddress.IPv4Address) -> str | None:
    for network, reason in _V4_SPECIAL:
        if ip in network:
            return reason
    return None


def _classify_v6(ip: ipaddress.IPv6Address) -> str | None:
    # Scope ids ("%eth0") do not change what the address is.
    ip = ipaddress.IPv6Address(int(ip))
    embedded = _embedded_v4(ip)
    if embedded is not None:
        wrapper, candidates = embedded
        for candidate in candidates:
            reason = _classify_v4(candidate)
            if reason is not None:
                return f"{reason} via {wrapper}"
        return None
    if ip in _NAT64_LOCAL:
        # Local-use NAT64 may embed IPv4 at /48, /56 or /64 too (RFC 6052); which one is the
        # operator's choice, so only the unambiguous /96 form (handled above) is let through.
        return "nat64-local"
    if any(ip in network for network in _V6_PUBLIC_IN_IETF):
        return None
    for network, reason in _V6_SPECIAL:
        if ip in network:
            return reason
    if ip not in _V6_GLOBAL_UNICAST:
        return "reserved"
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, tuple[ipaddress.IPv4Address, ...]] | None:
    """The IPv4 addresses an IPv6 address hands traffic to, with the wrapper's name."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED:
        return "ipv4-mapped", (low32,)
    if ip in _TRANSLATED:
        return "ipv4-translated", (low32,)
    if ip in _COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not wrappers
        return "ipv4-compatible", (low32,)
    if ip in _NAT64:
        return "nat64", (low32,)
    if ip in _NAT64_LOCAL and (int(ip) >> 32) & ((1 << 48) - 1) == 0:
        return "nat64", (low32,)
    if ip in _SIX_TO_FOUR:
        return "6to4", (ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF),)
    if ip in _TEREDO:
        # Both ends matter: the packet goes to the Teredo server and on to the (XOR-ed) client.
        teredo = ip.teredo
        if teredo is not None:  # always set inside 2001::/32; the check is for the type checker
            return "teredo", teredo
    return None


# The numeric forms inet_aton() accepts: one to four parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_V4 = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}")


def host_address(host: str) -> IPAddress | None:
    """The address a URL host names literally, or None for a DNS name.

    Accepts brackets and zone ids for IPv6 and every numeric IPv4 form a C resolver accepts,
    so ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` all read as 127.0.0.1.
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.fullmatch(host) is None:
        return None
    return _parse_numeric_v4(host)


def _parse_numeric_v4(host: str) -> ipaddress.IPv4Address | None:
    values: list[int] = []
    for part in host.split("."):
        try:
            if part[:2].lower() == "0x":
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:  # "08": not octal, and not an address either
            return None
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = 0
    for value in leading:
        number = number << 8 | value
    return ipaddress.IPv4Address(number << (8 * (4 - len(leading))) | last)


class NetGuard:
    """Refuses non-public addresses, except those in ``trusted_networks`` (development and tests)."""

    def __init__(self, trusted_networks: Sequence[str] = ()) -> None:
        self._trusted: tuple[IPNetwork, ...] = tuple(_parse_network(net) for net in trusted_networks)

    @property
    def trusted_networks(self) -> tuple[IPNetwork, ...]:
        return self._trusted

    def check(self, ip: IPAddress) -> None:
        """Raise ``BlockedAddress`` unless the gateway may connect to ``ip``."""
        if any(ip in network for network in self._trusted):
            return
        reason = classify(ip)
        if reason is not None:
            # The reason goes to the log for the operator; the caller only learns that it was refused.
            logger.info("refused a connection to a non-public address (%s)", reason)
            raise BlockedAddress(NO_PUBLIC_ADDRESS)

    def check_host(self, host: str) -> None:
        """Check a host that is an address literal in any form; DNS names pass (the resolver checks those)."""
        ip = host_address(host)
        if ip is not None:
            self.check(ip)


def _parse_network(text: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"trusted network {text!r} is not a CIDR network") from exc


def _parse_resolved(host: str) -> IPAddress:
    try:
        return ipaddress.ip_address(host)
    except ValueError as exc:
        # A resolver answer that is not an address cannot be checked, so it cannot be used.
        raise BlockedAddress(NO_PUBLIC_ADDRESS) from exc


class GuardedResolver(AbstractResolver):
    """Resolves with ``inner`` (the OS resolver by default) and refuses the name if ANY answer is
    non-public: one bad address among good ones is how rebinding and split-horizon tricks look."""

    def __init__(self, guard: NetGuard, inner: AbstractResolver | None = None) -> None:
        self._guard = guard
        # getaddrinfo in a thread honours /etc/hosts and nsswitch exactly as the rest of the OS does.
        self._inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            results = await self._inner.resolve(host, port, family)
        except OSError as exc:
            logger.info("refused a host name that does not resolve")
            raise BlockedAddress(NO_PUBLIC_ADDRESS) from exc
        if not results:
            logger.info("refused a host name that does not resolve")
            raise BlockedAddress(NO_PUBLIC_ADDRESS)
        for result in results:
            self._guard.check(_parse_resolved(result["host"]))
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(guard: NetGuard) -> SocketFactoryType:
    """A socket factory for aiohttp that checks the exact address each socket is about to connect to.

    aiohttp resolves names through ``GuardedResolver`` but connects to IP-literal hosts directly;
    this catches those. (For a name with several addresses aiohttp races the connections and would
    swallow this error, but those addresses already passed the resolver, so it never fires there.)
    """

    def create(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, address = addr_info
        guard.check(_parse_resolved(str(address[0])))
        return socket.socket(family=family, type=type_, proto=proto)

    return create


def guarded_connector(guard: NetGuard, **options: Any) -> aiohttp.TCPConnector:
    """A ``TCPConnector`` that can only reach addresses ``guard`` allows. Call inside a running loop.

    ``options`` go to ``TCPConnector`` (``limit``, ``ttl_dns_cache``, ...); ``resolver`` and
    ``socket_factory`` are the guard's and cannot be replaced.
    """
    if "resolver" in options or "socket_factory" in options:
        raise TypeError("a guarded connector's resolver and socket factory are fixed")
    return aiohttp.TCPConnector(
        resolver=GuardedResolver(guard), socket_factory=guarded_socket_factory(guard), **options
    )


async def resolve_public(
    host: str, port: int, guard: NetGuard, *, resolver: AbstractResolver | None = None
) -> list[str]:
    """Resolve ``host`` and return its addresses, all checked by ``guard``, for code that connects
    by itself (the capture egress proxy): connect to these strings, never to ``host`` again.

    ``resolver`` (kept open; the OS resolver by default) answers for names; literals need none.
    Raises ``BlockedAddress`` if any address is non-public or the name does not resolve (one answer for
    both, see ``NO_PUBLIC_ADDRESS``).
    """
    literal = host_address(host)
    if literal is not None:
        guard.check(literal)
        return [str(literal)]
    inner = resolver if resolver is not None else ThreadedResolver()
    try:
        results = await GuardedResolver(guard, inner).resolve(host, port, family=socket.AF_UNSPEC)
    finally:
        if resolver is None:
            await inner.close()
    return list(dict.fromkeys(result["host"] for result in results))
