"""Operational endpoints under the reserved ``/_/`` prefix, and the 404 of every other path there.

- ``/_/health``: each dependency ok/degraded/down (``gateway.health``); 200 while the gateway can serve, 503
  only when it cannot.
- ``/_/metrics``: the Prometheus text format, summed across the worker processes (``gateway.metrics``), for
  callers in ``metrics_networks`` or with the ``metrics_token`` bearer token; anyone else gets 403 FORBIDDEN.
- ``/_/tls/ask``: Caddy's on-demand TLS question (``gateway.routes.tls``).

All are plain ASGI apps, so Starlette routes every method to them and the answer to a method they do not take
is the gateway's JSON error (405 ``METHOD_NOT_ALLOWED`` with ``Allow``), never Starlette's plain text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.errors import Forbidden, MethodNotAllowed, NotFound
from gateway.metrics import fold
from gateway.metrics.exposition import MetricsAccess, render
from gateway.routes.tls import TLS_ASK, ask
from gateway.services import Services
from gateway.web.responses import error_response

HEALTH = "/_/health"
METRICS = "/_/metrics"
_READ_ONLY = "GET, HEAD"
_NO_STORE = {"Cache-Control": "no-store"}


async def _health(request: Request) -> Response:
    services: Services = request.app.state.services
    status, checks = await services.health()
    # Degraded still answers 200: the gateway serves (it transforms on every miss, limits alone, ...); a load
    # balancer should keep the node while an operator looks. Down (no workspace can be resolved) is 503.
    return JSONResponse(
        {"status": status, "checks": checks}, status_code=503 if status == "down" else 200, headers=_NO_STORE
    )


async def _metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    access = getattr(request.app.state, "metrics_access", None)
    if access is None:
        access = request.app.state.metrics_access = MetricsAccess(services.settings)
    if not access.allows(request.scope):
        return error_response(Forbidden("/_/metrics answers the metrics networks, or a caller with the metrics token"))
    # This worker's latest requests first, on the loop that counts them (the others' are at most
    # ``FOLD_AFTER`` late); then reading every worker's files, which is disk I/O, off the loop.
    fold()
    body, content_type = await asyncio.to_thread(render)
    return Response(body, headers={**_NO_STORE, "Content-Type": content_type})


class _ReadOnly:
    """One exact path, GET and HEAD."""

    def __init__(self, path: str, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self._path = path
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if scope["path"] != self._path:
            # Starlette's patterns end in ``$``, which also matches before a final newline: "/_/health\n".
            response = error_response(NotFound())
        elif scope["method"] in ("GET", "HEAD"):
            response = await self._handler(Request(scope, receive))
        else:
            response = error_response(MethodNotAllowed(f"allowed here: {_READ_ONLY}", headers={"Allow": _READ_ONLY}))
        await response(scope, receive, send)


class _NotFound:
    """Every other path under ``/_/``, whatever the method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(NotFound())(scope, receive, send)


health = _ReadOnly(HEALTH, _health)
metrics = _ReadOnly(METRICS, _metrics)
tls_ask = _ReadOnly(TLS_ASK, ask)
not_found = _NotFound()
