"""Which host a request is for: one of the gateway's own (``public_hosts``), or a name to look up as a custom domain.

The Host header names it, or, only when the socket's peer is in ``trusted_proxies``, ``X-Forwarded-Host`` as the
outermost trusted proxy wrote it (``TrustedProxies.forwarded``: read from the right, so an entry the client wrote
on the left says nothing). Names compare in ``gateway.domains.normalise.comparable_host`` form (no port, no
trailing dot, lower case, internationalised labels in ASCII); a request with no Host at all (HTTP/1.0) is for the
gateway's own host.

On the gateway's own hosts paths are ``/{namespace}/{key}`` and ``/_/…`` is the gateway's; any other host is
a custom domain candidate whose whole path is an image key, resolved (or refused with 404) by the request path's
resolve step. A name no custom domain can have (not a valid hostname, a single label, an IP literal) stays a
candidate too, and the resolve step answers it 404 without a store read (``gateway.domains.normalise.bindable``).

``X-Forwarded-Proto: https`` from a trusted proxy, read the same way, says the client's connection was HTTPS (a
custom domain's Strict-Transport-Security and the dashboard's Secure cookies are sent only then).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Scope

from gateway.domains.normalise import comparable_host
from gateway.web.clientaddr import TrustedProxies

# Host header values seen, and what they are: a hit reads it on every request, and real traffic has a few.
_REMEMBERED = 4096


def host_name(header: str) -> str:
    """``Img.Example.com.:443`` -> ``img.example.com``; ``[::1]:8080`` -> ``::1`` (``comparable_host``)."""
    return comparable_host(header)


class HostRouting:
    def __init__(self, public_hosts: Iterable[str], proxies: TrustedProxies) -> None:
        self._public = frozenset(comparable_host(host) for host in public_hosts)
        self._proxies = proxies
        self._seen: dict[str, str | None] = {}

    def is_public(self, host: str) -> bool:
        """Whether ``host`` (a Host header value, or a name) is one of the gateway's own."""
        return comparable_host(host) in self._public

    def custom_domain(self, scope: Scope, host: str | None, forwarded_host: str | None = None) -> str | None:
        """None for the gateway's own host; else the name the request's Host (or a trusted proxy's
        X-Forwarded-Host, ``forwarded_host`` as the request carried it) gives, in comparable form."""
        if forwarded_host is not None:
            host = self._proxies.forwarded(scope, forwarded_host) or host
        if host is None:
            return None
        known = self._seen.get(host, "")
        if known != "":
            return known
        domain: str | None = comparable_host(host)
        if domain in self._public:
            domain = None
        if len(self._seen) >= _REMEMBERED:
            self._seen.clear()
        self._seen[host] = domain
        return domain

    def https(self, scope: Scope, forwarded_proto: str | None = None) -> bool:
        """Whether the client's connection was HTTPS: the socket's scheme, or a trusted proxy's word for it."""
        proto = self._proxies.forwarded(scope, forwarded_proto)
        if proto is not None:
            return proto.lower() == "https"
        return scope.get("scheme") == "https"
