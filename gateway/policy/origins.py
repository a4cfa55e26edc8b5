"""CORS: the ``Origin`` request header, and a workspace's allowed origins.

Patterns, one per list entry::

    *                           any origin, ``null`` included: the answer is then the same for every caller
    https://shop.example.com    one origin; scheme, host and port all count, default ports are normalised
                                (``https://a.com`` and ``https://a.com:443`` are one origin)
    https://*.example.com:8443  every subdomain at any depth, same scheme and port rules; never the bare
                                ``https://example.com``
    http://127.0.0.1:3000       IP literals (IPv4 dotted quad or ``[IPv6]``), exact only

Any scheme a browser sends may be named (``chrome-extension://<id>``, ``capacitor://localhost``); only http
and https have default ports. Hosts compare as ``gateway.policy.hosts`` normalises them (case, trailing dot,
IDNA), so a pattern may be written in Unicode. One trailing ``/`` in a pattern is forgiven, any other path
is refused.

``null`` is the origin of sandboxed frames, ``file:`` and ``data:`` pages and some cross-origin redirects:
countless unrelated pages share it, so naming it would admit them all. Only ``*`` admits it, and ``null``
in a list is refused. An ``Origin`` header that does not parse is treated like any disallowed origin.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.policy.hosts import HostPattern, InvalidHost, InvalidPattern, normalise_host, pattern_texts
from gateway.policy.urls import DEFAULT_PORTS

_ORIGIN = re.compile(r"([a-z][a-z0-9+.-]*)://([^/?#@\\\s]+)", re.IGNORECASE)
_PORT = re.compile(r"[0-9]{1,5}")


class InvalidOrigin(ValueError):
    """Not a serialised origin (``scheme://host[:port]``)."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str  # normalised; IPv6 in brackets
    port: int | None  # the effective port; None only for a scheme without a default port and none given


def parse_origin(text: str) -> Origin:
    """Parse an ``Origin`` header value, or raise ``InvalidOrigin`` (``null`` is not an origin here)."""
    scheme, host_text, port = _split(text)
    if host_text.startswith("["):
        return Origin(scheme, _normalise_ipv6(host_text), port)
    try:
        return Origin(scheme, normalise_host(host_text), port)
    except InvalidHost as exc:
        raise InvalidOrigin(str(exc)) from exc


def _split(text: str) -> tuple[str, str, int | None]:
    match = _ORIGIN.fullmatch(text)
    if match is None:
        raise InvalidOrigin("an origin is scheme://host[:port] with no path")
    scheme, authority = match.group(1).lower(), match.group(2)
    host_text, port_text = authority, ""
    # The last colon starts the port, unless it sits inside an IPv6 literal's brackets.
    if ":" in authority and not authority.endswith("]"):
        host_text, _, port_text = authority.rpartition(":")
        if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
            raise InvalidOrigin("the port must be a number from 1 to 65535")
    port = int(port_text) if port_text else DEFAULT_PORTS.get(scheme)
    return scheme, host_text, port


def _normalise_ipv6(host_text: str) -> str:
    if not host_text.endswith("]") or "%" in host_text:
        raise InvalidOrigin("invalid IPv6 literal")
    try:
        return f"[{ipaddress.IPv6Address(host_text[1:-1]).compressed}]"
    except ValueError as exc:
        raise InvalidOrigin("invalid IPv6 literal") from exc


@dataclass(frozen=True, slots=True)
class OriginWildcard:
    scheme: str
    subdomains_of: HostPattern
    port: int | None

    def matches(self, origin: Origin) -> bool:
        same_scheme_and_port = origin.scheme == self.scheme and origin.port == self.port
        return same_scheme_and_port and self.subdomains_of.matches(origin.host)


@dataclass(frozen=True, slots=True)
class OriginAllowlist:
    """A compiled list of origin patterns; an empty list admits no request that carries an ``Origin``."""

    any_origin: bool = False
    exact: frozenset[Origin] = frozenset()
    wildcards: tuple[OriginWildcard, ...] = ()

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> OriginAllowlist:
        any_origin = False
        exact: set[Origin] = set()
        wildcards: dict[OriginWildcard, None] = {}  # a dict keeps the owner's order while dropping repeats
        for text in pattern_texts(patterns):
            compiled = _compile_pattern(text)
            if compiled is None:
                any_origin = True
            elif isinstance(compiled, Origin):
                exact.add(compiled)
            else:
                wildcards[compiled] = None
        return cls(any_origin=any_origin, exact=frozenset(exact), wildcards=tuple(wildcards))

    def allows(self, header: str) -> bool:
        """``header`` is the raw ``Origin`` value as the browser sent it."""
        if self.any_origin:
            return True
        try:
            origin = parse_origin(header)
        except InvalidOrigin:
            return False  # 'null' lands here too
        return origin in self.exact or any(wildcard.matches(origin) for wildcard in self.wildcards)


def _compile_pattern(text: str) -> Origin | OriginWildcard | None:
    """None stands for ``*``."""
    pattern = text.strip()
    if pattern == "*":
        return None
    if pattern.lower() == "null":
        raise InvalidPattern(text, "'null' is shared by unrelated pages and cannot be allowed by name")
    if pattern.endswith("/"):
        pattern = pattern[:-1]
    try:
        scheme, host_text, port = _split(pattern)
        if not host_text.startswith("*"):
            return parse_origin(pattern)
    except InvalidOrigin as exc:
        raise InvalidPattern(text, str(exc)) from exc
    if not host_text.startswith("*."):
        raise InvalidPattern(text, "a wildcard origin looks like https://*.example.com")
    try:
        return OriginWildcard(scheme, HostPattern.compile(host_text), port)
    except InvalidPattern as exc:
        raise InvalidPattern(text, exc.reason) from exc
