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

On top of the built-in rules, the operator's deny lists (settings ``deny_networks`` and ``deny_hosts``,
``DenyRules``) refuse public addresses and host names too, on every path that connects through a
``NetGuard``: origins, ``?src=``, bucket endpoints, the capture egress proxy, and anything added later
that uses ``guarded_connector`` or ``resolve_public``. Deny beats trust: an address in ``deny_networks``
is refused even inside ``trusted_networks``. A deny-listed address is checked through the same IPv6
wrappers as ``classify`` (``::ffff:a.b.c.d`` is as denied as ``a.b.c.d``); a deny-listed name is the name
asked for (its CNAME targets are not names anyone asked for; their addresses are still checked).

Reloading: ``guard_for(settings)`` gives a guard whose deny lists follow the settings file
(``DenyList``): at most once a second, on the first check after that second, it looks at the file's
modification time, size and inode, and when they changed it reads the settings again (file, then
``IMGATE_*``, as at start-up) and swaps the deny lists in at once; every other setting still needs a
restart. A file that no longer reads keeps the lists in force and logs why: an edit in progress never
lifts a deny rule. A change applies within a second to every connection ``guarded_connector`` hands
out, kept-alive ones included: each is checked again (its peer address, the host asked for) before a
request is written on it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.resolver import ThreadedResolver
from aiohttp.tracing import Trace

from gateway.errors import BlockedAddress
from gateway.policy.hosts import InvalidHost, normalise_host
from gateway.settings import Settings, deny_host_pattern, load_settings

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


@dataclass(frozen=True, slots=True)
class DenyRules:
    """The operator's deny lists, compiled: networks, exact hosts and ``*.domain`` suffixes."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    # ".example.com" for "*.example.com": the leading dot is the label boundary.
    suffixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, networks: Iterable[str] = (), hosts: Iterable[str] = ()) -> DenyRules:
        """Compile setting values; ``SettingsError`` (a ``ValueError``) names a bad entry."""
        patterns = [deny_host_pattern(text) for text in hosts]
        return cls(
            networks=tuple(_parse_network(text, "deny network") for text in networks),
            hosts=frozenset(pattern for pattern in patterns if not pattern.startswith("*.")),
            suffixes=tuple(pattern[1:] for pattern in patterns if pattern.startswith("*.")),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> DenyRules:
        return cls.parse(settings.deny_networks, settings.deny_hosts)

    def denies_address(self, ip: IPAddress) -> bool:
        if not self.networks:
            return False
        candidates: tuple[IPAddress, ...] = (ip,)
        if isinstance(ip, ipaddress.IPv6Address):
            ip = ipaddress.IPv6Address(int(ip))  # without a scope id
            embedded = _embedded_v4(ip)
            candidates = (ip, *(embedded[1] if embedded is not None else ()))
        return any(candidate in network for candidate in candidates for network in self.networks)

    def denies_host(self, host: str) -> bool:
        if not self.hosts and not self.suffixes:
            return False
        name = _comparable_host(host)
        return name in self.hosts or any(name.endswith(suffix) for suffix in self.suffixes)


def _comparable_host(host: str) -> str:
    try:
        return normalise_host(host)
    except InvalidHost:
        # Not a host any rule could be written for; compared as typed, minus case and the root dot.
        return host.lower().rstrip(".")


class DenyList:
    """``DenyRules`` that follow a settings file: re-read when its stat changes, looked at once a second."""

    def __init__(
        self,
        rules: DenyRules,
        reload: Callable[[], DenyRules] | None = None,
        watch: Path | None = None,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rules = rules
        self._reload = reload
        self._watch = watch
        self._interval = interval
        self._clock = clock
        self._next_look = clock() + interval
        self._signature = _file_signature(watch) if watch is not None else None

    @classmethod
    def for_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> DenyList:
        """The deny lists of ``settings``, re-read from the file they came from (if any) when it changes."""
        rules = DenyRules.from_settings(settings)
        path = settings.config_file
        if path is None:
            return cls(rules, clock=clock)

        def reload() -> DenyRules:
            return DenyRules.from_settings(load_settings(config_path=path))

        return cls(rules, reload, path, clock=clock)

    def current(self) -> DenyRules:
        if self._reload is not None and self._clock() >= self._next_look:
            self._look()
        return self._rules

    def _look(self) -> None:
        self._next_look = self._clock() + self._interval
        assert self._watch is not None and self._reload is not None  # noqa: S101 - set together
        signature = _file_signature(self._watch)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            self._rules = self._reload()
        except (OSError, ValueError) as exc:  # SettingsError is a ValueError
            # The rules in force stay: an edit in progress must never lift a deny rule.
            logger.warning("the settings file changed but does not read; deny lists unchanged: %s", exc)
            return
        logger.info(
            "deny lists reloaded: %d networks, %d hosts",
            len(self._rules.networks),
            len(self._rules.hosts) + len(self._rules.suffixes),
        )


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class NetGuard:
    """Refuses non-public addresses, except those in ``trusted_networks`` (development and tests), and
    whatever the operator's deny lists name (``deny``), trusted or not."""

    def __init__(self, trusted_networks: Sequence[str] = (), deny: DenyList | DenyRules | None = None) -> None:
        self._trusted: tuple[IPNetwork, ...] = tuple(_parse_network(net) for net in trusted_networks)
        self._deny = deny if isinstance(deny, DenyList) else DenyList(deny or DenyRules())

    @property
    def trusted_networks(self) -> tuple[IPNetwork, ...]:
        return self._trusted

    @property
    def deny_rules(self) -> DenyRules:
        """The deny lists in force now."""
        return self._deny.current()

    def trusting(self, trusted_networks: Sequence[str]) -> NetGuard:
        """A guard with the same (live) deny lists that trusts ``trusted_networks`` instead of ours."""
        return NetGuard(trusted_networks, self._deny)

    def check(self, ip: IPAddress) -> None:
        """Raise ``BlockedAddress`` unless the gateway may connect to ``ip``."""
        if self._deny.current().denies_address(ip):
            logger.info("refused a connection to an address in deny_networks")
            raise BlockedAddress(NO_PUBLIC_ADDRESS)
        if any(ip in network for network in self._trusted):
            return
        reason = classify(ip)
        if reason is not None:
            # The reason goes to the log for the operator; the caller only learns that it was refused.
            logger.info("refused a connection to a non-public address (%s)", reason)
            raise BlockedAddress(NO_PUBLIC_ADDRESS)

    def check_name(self, host: str) -> None:
        """Raise ``BlockedAddress`` if ``deny_hosts`` names ``host`` (a DNS name). Same answer as any
        refusal, so that nobody can read the deny list through the gateway."""
        if self._deny.current().denies_host(host):
            logger.info("refused a host name in deny_hosts")
            raise BlockedAddress(NO_PUBLIC_ADDRESS)

    def check_host(self, host: str) -> None:
        """Check a host before connecting: an address literal in any form is checked as an address, a DNS
        name against ``deny_hosts`` (its addresses are the resolver's to check)."""
        ip = host_address(host)
        if ip is not None:
            self.check(ip)
        else:
            self.check_name(host)


def guard_for(settings: Settings) -> NetGuard:
    """The gateway's guard: ``trusted_networks`` and the deny lists, which follow the settings file."""
    return NetGuard(settings.trusted_networks, DenyList.for_settings(settings))


def _parse_network(text: str, kind: str = "trusted network") -> IPNetwork:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{kind} {text!r} is not a CIDR network") from exc


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
        # Before any DNS query: a denied name is not even looked up.
        self._guard.check_name(host)
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


class _GuardedConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that checks every connection it hands out, pooled ones included: a keep-alive
    connection was checked when it was opened, and the deny lists may have changed since."""

    def __init__(self, guard: NetGuard, **options: Any) -> None:
        super().__init__(resolver=GuardedResolver(guard), socket_factory=guarded_socket_factory(guard), **options)
        self._guard = guard

    async def connect(self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout) -> Connection:
        connection = await super().connect(req, traces, timeout)
        transport = connection.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        try:
            # Before a byte of the request is written on it.
            self._guard.check_name(req.url.raw_host or "")
            if peer:
                self._guard.check(_parse_resolved(str(peer[0])))
        except BlockedAddress:
            connection.close()  # never back into the pool
            raise
        return connection


def guarded_connector(guard: NetGuard, **options: Any) -> aiohttp.TCPConnector:
    """A ``TCPConnector`` that can only reach addresses ``guard`` allows. Call inside a running loop.

    ``options`` go to ``TCPConnector`` (``limit``, ``ttl_dns_cache``, ...); ``resolver`` and
    ``socket_factory`` are the guard's and cannot be replaced. Every connection it hands out, new or
    from its keep-alive pool, is checked again against the guard as it is now.
    """
    if "resolver" in options or "socket_factory" in options:
        raise TypeError("a guarded connector's resolver and socket factory are fixed")
    return _GuardedConnector(guard, **options)


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
