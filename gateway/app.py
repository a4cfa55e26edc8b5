"""``create_app(settings)``: the gateway as an ASGI app; its lifespan builds and closes the services.

    FastHits                  hits from memory, in front of the framework (gateway.routes.fasthits); every
                              request to a custom domain goes from there to the image route, whatever its path
      Starlette
        /_/health             gateway.routes.ops (GET and HEAD; any other method: 405)
        /_/metrics            gateway.routes.ops (Prometheus; metrics networks or the metrics token)
        /_/tls/ask            gateway.routes.tls (Caddy's on-demand TLS question)
        /_/results/{id}       gateway.routes.results (capture job results, signed expiring URLs)
        /_/api/v1/…           gateway.routes.api (the management API), and POST /_/billing/stripe
        /_/dashboard/…        gateway.dashboard (server-rendered pages over gateway.admin)
        /_/…                  404, whatever the method
        every other target    gateway.routes.images -> the request path (gateway.delivery.path)

Every answer is the gateway's JSON error shape (``gateway.web.responses``), whatever was asked: workspace paths
answer their own errors, with the workspace's CORS headers; the exception handlers here turn everything else
(Starlette's own 404 and 405, a ``GatewayError`` or a bug escaping a route) into it. Two of Starlette's
defaults are turned off for that: a path no route pattern matches (a decoded CR or LF, ``*``, the
``host:port`` of a CONNECT) goes to the image route, which answers it, instead of Starlette's plain-text 404;
and ``redirect_slashes``, which answers a path that would match with a slash added by a 307 whose
``Location`` is built from the Host header, is off: the gateway never redirects.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.accounts.store import AccountStore
from gateway.dashboard import dashboard_routes
from gateway.delivery.hooks import RequestHooks
from gateway.errors import (
    GatewayError,
    Internal,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from gateway.routes.api import api_routes
from gateway.routes.fasthits import FastHits
from gateway.routes.images import image
from gateway.routes.ops import HEALTH, METRICS, health, metrics, not_found, tls_ask
from gateway.routes.results import RESULTS, result
from gateway.routes.tls import TLS_ASK
from gateway.services import build_services
from gateway.settings import Settings, load_settings
from gateway.web.responses import error_response

log = logging.getLogger("imgate")


async def _gateway_error(request: Request, exc: Exception) -> Response:
    return error_response(exc if isinstance(exc, GatewayError) else Internal())


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error")
    return error_response(Internal())


# Starlette's own refusals, as the gateway's errors (their detail text is Starlette's, so it is not shown).
_HTTP_ERRORS: dict[int, type[GatewayError]] = {
    400: ValidationError,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if status == 405:
        allowed = ", ".join(sorted(method.strip() for method in headers.get("Allow", "").split(",") if method.strip()))
        return error_response(MethodNotAllowed(f"allowed here: {allowed}", headers={"Allow": allowed}))
    cls = _HTTP_ERRORS.get(status)
    if cls is None:
        log.warning("HTTP %d raised by the framework, answered as INTERNAL", status)
        return error_response(Internal())
    return error_response(cls(headers=headers))


def create_app(
    settings: Settings | None = None, store: AccountStore | None = None, hooks: RequestHooks | None = None
) -> FastHits:
    """The gateway as an ASGI app: the hit fast path in front of the Starlette application."""
    settings = settings or load_settings()
    fast: FastHits

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = build_services(settings, store, hooks)
        app.state.services = services
        fast.path = services.path
        fast.hosts = services.hosts
        services.domains.start()
        if services.jobs is not None:
            services.jobs.start()
        try:
            yield
        finally:
            fast.path = None
            await services.aclose()

    routes = [
        # Plain ASGI apps, so every method reaches them and each answers the methods it does not take itself.
        Route(HEALTH, health),
        Route(METRICS, metrics),
        Route(TLS_ASK, tls_ask),
        Route(RESULTS, result),  # capture job results behind signed URLs (gateway.routes.results)
        *api_routes(),  # /_/api/v1/… and POST /_/billing/stripe (gateway.routes.api)
        *dashboard_routes(),  # /_/dashboard/… (gateway.dashboard)
        Route("/_/{rest:path}", not_found),
        Route("/_", not_found),
    ]
    application = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, GatewayError: _gateway_error, Exception: _unexpected},
    )
    # Every other target goes to the image route, every method included: the request path answers preflights and
    # refuses other methods with the workspace's CORS headers. See the module docstring for both settings.
    application.router.default = image
    application.router.redirect_slashes = False
    fast = FastHits(application)
    return fast


def app_from_environment() -> FastHits:
    """The ASGI entry point Granian imports in each worker process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # libvips reports every operation at INFO through pyvips' logger: ten lines a transform.
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    return create_app(load_settings())
