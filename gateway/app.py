"""``create_app(settings)``: the gateway as an ASGI app; its lifespan builds and closes the services.

    FastHits                  hits from memory, in front of the framework (gateway.web.fasthits)
      Starlette
        /_/health             gateway.routes.ops
        /_/api/v1/…           gateway.routes.api (the management API), and POST /_/billing/stripe
        /_/…                  404
        every other path      gateway.routes.images -> the request path (gateway.delivery.path)

Workspace paths answer their own errors, with the workspace's CORS headers; the exception handlers here
are for the gateway's own paths and for anything that escapes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.accounts.store import AccountStore
from gateway.delivery.hooks import RequestHooks
from gateway.errors import GatewayError, Internal, NotFound
from gateway.routes.api import api_routes
from gateway.routes.images import image
from gateway.routes.ops import health
from gateway.services import build_services
from gateway.settings import Settings, load_settings
from gateway.web.fasthits import FastHits
from gateway.web.responses import error_response

log = logging.getLogger("imgate")


async def _gateway_error(request: Request, exc: Exception) -> Response:
    return error_response(exc if isinstance(exc, GatewayError) else Internal())


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error")
    return error_response(Internal())


async def _not_found(request: Request) -> Response:
    return error_response(NotFound())


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
        try:
            yield
        finally:
            fast.path = None
            await services.aclose()

    routes = [
        Route("/_/health", health, methods=["GET"]),
        *api_routes(),  # /_/api/v1/… and POST /_/billing/stripe (gateway.routes.api)
        Route("/_/{rest:path}", _not_found),
        Route("/_", _not_found),
        # Every method: the request path answers preflights, and refuses other methods with the CORS headers.
        Route("/{path:path}", image),
    ]
    application = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={GatewayError: _gateway_error, Exception: _unexpected},
    )
    fast = FastHits(application)
    return fast


def app_from_environment() -> FastHits:
    """The ASGI entry point Granian imports in each worker process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # libvips reports every operation at INFO through pyvips' logger: ten lines a transform.
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    return create_app(load_settings())
