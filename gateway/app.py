"""``create_app(settings)``: the Starlette application; its lifespan builds and closes the services."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from gateway.accounts.store import AccountStore
from gateway.errors import GatewayError, Internal, NotFound
from gateway.policy import WorkspacePolicy
from gateway.routes.images import image
from gateway.routes.ops import health
from gateway.services import build_services
from gateway.settings import Settings, load_settings
from gateway.web.cors import CORSMiddleware
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


async def _workspace_policy(scope: Scope) -> WorkspacePolicy | None:
    """The CORS layer's lookup: the namespace's compiled policy, or None for the gateway's own paths."""
    path: str = scope.get("path", "")
    if path.startswith("/_/") or path == "/_":
        return None
    namespace = path[1:].split("/", 1)[0]
    tenant = await scope["app"].state.services.tenancy.get(namespace)
    return tenant.policy if tenant is not None else None


def create_app(settings: Settings | None = None, store: AccountStore | None = None) -> FastHits:
    """The gateway as an ASGI app: the hit fast path in front of the Starlette application."""
    settings = settings or load_settings()
    fast: FastHits

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = build_services(settings, store)
        app.state.services = services
        fast.services = services
        try:
            yield
        finally:
            fast.services = None
            await services.aclose()

    routes = [
        Route("/_/health", health, methods=["GET"]),
        Route("/_/{rest:path}", _not_found),
        Route("/{ns}/{key:path}", image, methods=["GET"]),
        # Anything else (a bare "/", "/{ns}" without a key) is a JSON 404, never a slash-adding redirect.
        Route("/{rest:path}", _not_found),
    ]
    application = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(CORSMiddleware, policy_for=_workspace_policy)],
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
