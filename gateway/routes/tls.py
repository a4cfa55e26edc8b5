"""``GET /_/tls/ask?domain=HOST``: Caddy's on-demand TLS question, "may I get a certificate for HOST?".

200 when HOST is one of the gateway's own hosts (``public_hosts``) or a verified custom domain, 404 otherwise.
Caddy issues a certificate only after a 200, so a hostname nobody bound (a scan, a typo, a removed domain) never
gets one. The answer comes from the request path's own cache (``Tenancy.for_host``: verified hosts and negative
entries for ``tenancy_ttl``), never from DNS: an ask costs at most one store read per name per ``tenancy_ttl``,
and none for a name no domain can have (an IP literal, a single label).

In order, so that Caddy's asks for the names it serves are never held up by anyone else's:

1. only on the gateway's own hosts (on a custom domain every path is an image key), GET and HEAD
   (``gateway.routes.ops``' read-only guard mounts it);
2. refused (403 FORBIDDEN) when it carries ``X-Forwarded-For`` or ``Forwarded``: Caddy asks the gateway
   directly, so an ask that came through a proxy came from the public (the Caddyfile also answers
   ``/_/tls/ask`` 404 on its public sites); and, when ``tls_ask_networks`` is set, from any other peer;
3. a public host, or a verified domain in the cache: 200 at once, never counted;
4. any other name is looked up, and counted when it is not verified: after ``tls_ask_per_minute`` such asks
   in one fixed minute the name is refused (429 RATE_LIMITED with Retry-After until the minute ends), so a
   flood of asks for names nobody verified cannot turn into a flood of store reads. A verified name is never
   counted, so it is never refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.addresses import Networks, peer_address
from gateway.domains.normalise import comparable_host
from gateway.errors import Forbidden, NotFound, RateLimited, ValidationError
from gateway.services import Services
from gateway.web.clientaddr import carries_forwarding
from gateway.web.responses import error_response

TLS_ASK = "/_/tls/ask"
_WINDOW = 60.0
_MAX_NAMES = 100_000
_STATE = "tls_ask"


class AskLimiter:
    """Asks per name in fixed windows of ``window`` seconds. A window that fills up with ``max_names`` names
    refuses new names until it ends: the memory stays bounded and a flood of names buys no store reads."""

    def __init__(
        self,
        per_window: int,
        window: float = _WINDOW,
        max_names: int = _MAX_NAMES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_window = per_window
        self._window = window
        self._max_names = max_names
        self._clock = clock
        self._started = clock()
        self._counts: dict[str, int] = {}

    def _roll(self) -> float:
        now = self._clock()
        if now - self._started >= self._window:
            # A fixed window: it starts on the clock's own beat, whatever was counted in it.
            self._started = now - (now - self._started) % self._window
            self._counts.clear()
        return now

    def refuses(self, name: str) -> bool:
        """Whether ``name`` has had its asks in this window (or the window is full of other names)."""
        self._roll()
        count = self._counts.get(name)
        if count is None:
            return len(self._counts) >= self._max_names
        return count >= self._per_window

    def count(self, name: str) -> None:
        self._roll()
        if name in self._counts or len(self._counts) < self._max_names:
            self._counts[name] = self._counts.get(name, 0) + 1

    def retry_after(self) -> int:
        """Whole seconds until the current window ends (at least 1)."""
        now = self._roll()
        return max(1, math.ceil(self._started + self._window - now))


class _AskState:
    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.networks = Networks(settings.tls_ask_networks)
        self.limiter = AskLimiter(settings.tls_ask_per_minute)


async def ask(request: Request) -> Response:
    services: Services = request.app.state.services
    state: _AskState | None = getattr(request.app.state, _STATE, None)
    if state is None:
        state = _AskState(services)
        setattr(request.app.state, _STATE, state)
    scope = request.scope
    if carries_forwarding(scope):
        return error_response(Forbidden("a forwarded ask is refused: the TLS server asks the gateway directly"))
    if state.networks and peer_address(scope) not in state.networks:
        return error_response(Forbidden("this client may not ask"))
    asked = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True).get("domain", [])
    if len(asked) != 1 or not asked[0].strip():
        return error_response(ValidationError("give one domain: /_/tls/ask?domain=HOST"))
    host = comparable_host(asked[0])
    if services.hosts.is_public(host) or services.tenancy.host_namespace(host) is not None:
        return _allowed(host)
    if state.limiter.refuses(host):
        retry = str(state.limiter.retry_after())
        return error_response(RateLimited("too many asks for that name", headers={"Retry-After": retry}))
    if await services.tenancy.for_host(host) is None:
        # Only names found unverified are counted: a verified one (cold in the cache, or asked by many
        # handshakes at once) is never refused.
        state.limiter.count(host)
        return error_response(NotFound("no certificate for that name"))
    return _allowed(host)


def _allowed(host: str) -> Response:
    return JSONResponse({"domain": host, "allowed": True}, headers={"Cache-Control": "no-store"})
