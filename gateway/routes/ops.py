"""Operational endpoints under the reserved ``/_/`` prefix."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.services import Services


async def health(request: Request) -> Response:
    services: Services = request.app.state.services
    checks = await services.health()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    # Degraded still answers 200: the gateway serves (it transforms on every miss); a load balancer should
    # keep the node while an operator looks at the result store.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
