"""``GET /_/tls/ask?domain=HOST``: Caddy's on-demand TLS question, "may I get a certificate for HOST?".

200 when HOST is one of the gateway's own hosts (``public_hosts``) or a verified custom domain, 404 otherwise.
Caddy issues a certificate only after a 200, so a hostname nobody bound (a scan, a typo, a removed domain) never
gets one. The answer comes from the request path's own cache (``Tenancy.for_host``: verified hosts and negative
entries for ``tenancy_ttl``), never from DNS: an ask costs at most one store read per name per ``tenancy_ttl``.

Served only on the gateway's own hosts (on a custom domain every path is an image key), only to clients in
``tls_ask_networks`` when it is set (403 FORBIDDEN otherwise; Caddy asks from its own address, the socket's peer,
never from a forwarded one), and at most ``tls_ask_per_minute`` times per asked name in each minute (429
RATE_LIMITED with Retry-After), so a flood of names cannot turn into a flood of store reads.
"""

from __future__ import annotations

import ipaddress
import time
from urllib.parse import parse_qs

from cachetools import TTLCache
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.errors import Forbidden, MethodNotAllowed, NotFound, RateLimited, ValidationError
from gateway.policy.hosts import InvalidHost, normalise_host
from gateway.services import Services
from gateway.web.clientaddr import Network, parse_address
from gateway.web.hosts import host_name
from gateway.web.responses import error_response

TLS_ASK = "/_/tls/ask"
_READ_ONLY = "GET, HEAD"
_WINDOW = 60.0
_MAX_NAMES = 100_000


class _AskLimiter:
    """Asks per name in the current minute; bounded (the oldest names are dropped when it is full)."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._counts: TTLCache[str, int] = TTLCache(maxsize=_MAX_NAMES, ttl=_WINDOW, timer=time.monotonic)

    def admit(self, name: str) -> bool:
        count = self._counts.get(name, 0) + 1
        self._counts[name] = count
        return count <= self._per_minute


class TlsAsk:
    def __init__(self) -> None:
        self._limiter: _AskLimiter | None = None
        self._networks: tuple[Network, ...] = ()

    def _setup(self, services: Services) -> _AskLimiter:
        if self._limiter is None:
            settings = services.settings
            self._networks = tuple(ipaddress.ip_network(text) for text in settings.tls_ask_networks)
            self._limiter = _AskLimiter(settings.tls_ask_per_minute)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._answer(scope)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response:
        if scope["path"] != TLS_ASK:
            return error_response(NotFound())
        if scope["method"] not in ("GET", "HEAD"):
            return error_response(MethodNotAllowed(f"allowed here: {_READ_ONLY}", headers={"Allow": _READ_ONLY}))
        services: Services = scope["app"].state.services
        limiter = self._setup(services)
        if self._networks:
            client = scope.get("client")
            peer = parse_address(client[0]) if client else None
            if peer is None or not any(peer in network for network in self._networks):
                return error_response(Forbidden("this client may not ask"))
        asked = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True).get("domain", [])
        if len(asked) != 1 or not asked[0].strip():
            return error_response(ValidationError("give one domain: /_/tls/ask?domain=HOST"))
        name = host_name(asked[0])
        if services.hosts.is_public(name):
            return _allowed(name)
        try:
            host = normalise_host(name)
        except InvalidHost:
            return error_response(NotFound("no certificate for that name"))
        if not limiter.admit(host):
            return error_response(RateLimited("too many asks for that name", headers={"Retry-After": "60"}))
        if await services.tenancy.for_host(host) is None:
            return error_response(NotFound("no certificate for that name"))
        return _allowed(host)


def _allowed(host: str) -> Response:
    return JSONResponse({"domain": host, "allowed": True}, headers={"Cache-Control": "no-store"})
