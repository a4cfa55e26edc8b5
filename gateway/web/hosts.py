"""Which host a request is for: one of the gateway's own (``public_hosts``), or a name to look up as a custom domain.

The Host header names it, or, only when the socket's peer is in ``trusted_proxies``, ``X-Forwarded-Host``
(Caddy and load balancers set it; from anyone else it says nothing). The port and a trailing dot are dropped and
the name is lower-cased; a request with no Host at all (HTTP/1.0) is for the gateway's own host.

On the gateway's own hosts paths are ``/{namespace}/{key}`` and ``/_/…`` is the gateway's; any other host is
a custom domain candidate whose whole path is an image key, resolved (or refused with 404) by the request path's
resolve step. A name that is not a valid hostname stays a candidate too: no domain is stored under it, so it
is a 404 like any unknown host.

``X-Forwarded-Proto: https`` from a trusted proxy says the client's connection was HTTPS (a custom domain's
Strict-Transport-Security is sent only then).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Scope

from gateway.policy.hosts import InvalidHost, normalise_host
from gateway.web.clientaddr import TrustedProxies, parse_address

# Host header values seen, and what they are: a hit reads it on every request, and real traffic has a few.
_REMEMBERED = 4096


def host_name(header: str) -> str:
    """``Img.Example.com.:443`` -> ``img.example.com``; ``[::1]:8080`` -> ``::1``."""
    text = header.strip()
    if text.startswith("["):
        return text[1:].partition("]")[0].lower()
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return text.lower().rstrip(".")


def _comparable(host: str) -> str:
    name = host_name(host)
    try:
        return normalise_host(name) if ":" not in name else name
    except InvalidHost:
        return name


class HostRouting:
    def __init__(self, public_hosts: Iterable[str], proxies: TrustedProxies) -> None:
        self._public = frozenset(_comparable(host) for host in public_hosts)
        self._proxies = proxies
        self._seen: dict[str, str | None] = {}

    def is_public(self, host: str) -> bool:
        """Whether ``host`` (a Host header value, or a name) is one of the gateway's own."""
        return _comparable(host) in self._public

    def custom_domain(self, scope: Scope, host: str | None, forwarded_host: str | None = None) -> str | None:
        """None for the gateway's own host; else the name the request's Host (or a trusted proxy's
        X-Forwarded-Host, ``forwarded_host`` as the request carried it) gives, as custom domains are stored."""
        if forwarded_host is not None and self._from_proxy(scope):
            host = forwarded_host.split(",")[0].strip() or host
        if host is None:
            return None
        known = self._seen.get(host, "")
        if known != "":
            return known
        name = host_name(host)
        try:
            domain: str | None = normalise_host(name) if ":" not in name else name
        except InvalidHost:
            domain = name
        if domain in self._public:
            domain = None
        if len(self._seen) >= _REMEMBERED:
            self._seen.clear()
        self._seen[host] = domain
        return domain

    def https(self, scope: Scope, forwarded_proto: str | None = None) -> bool:
        """Whether the client's connection was HTTPS: the socket's scheme, or a trusted proxy's word for it."""
        if forwarded_proto is not None and self._from_proxy(scope):
            return forwarded_proto.split(",")[0].strip().lower() == "https"
        return scope.get("scheme") == "https"

    def _from_proxy(self, scope: Scope) -> bool:
        client = scope.get("client")
        peer = parse_address(client[0]) if client else None
        return peer is not None and self._proxies.trusts(peer)
