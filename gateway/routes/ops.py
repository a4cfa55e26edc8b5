"""Operational endpoints under the reserved ``/_/`` prefix, and the 404 of every other path there.

Both are plain ASGI apps, so Starlette routes every method to them and the answer to a method they do not take
is the gateway's JSON error (405 ``METHOD_NOT_ALLOWED`` with ``Allow``), never Starlette's plain text.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.errors import MethodNotAllowed, NotFound
from gateway.services import Services
from gateway.web.responses import error_response

HEALTH = "/_/health"
_READ_ONLY = "GET, HEAD"


async def _health(request: Request) -> Response:
    services: Services = request.app.state.services
    checks = await services.health()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    # Degraded still answers 200: the gateway serves (it transforms on every miss); a load balancer should
    # keep the node while an operator looks at the result store.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


class _Health:
    """``GET /_/health`` (and HEAD)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if scope["path"] != HEALTH:
            # Starlette's patterns end in ``$``, which also matches before a final newline: "/_/health\n".
            response = error_response(NotFound())
        elif scope["method"] in ("GET", "HEAD"):
            response = await _health(Request(scope, receive))
        else:
            response = error_response(MethodNotAllowed(f"allowed here: {_READ_ONLY}", headers={"Allow": _READ_ONLY}))
        await response(scope, receive, send)


class _NotFound:
    """Every other path under ``/_/``, whatever the method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(NotFound())(scope, receive, send)


health = _Health()
not_found = _NotFound()
