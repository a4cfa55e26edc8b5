"""The management API, ``/_/api/v1``: one more adapter over ``gateway.admin``, never a second implementation.

    endpoint.py    Endpoint (the table every route is declared in) and one call from top to bottom
    auth.py        the API key of a request: 401, 403 FORBIDDEN, 403 IP_NOT_ALLOWED (the client address:
                   ``gateway.web.clientaddr``)
    inputs.py      body and query string into their models: 400, 413
    answers.py     JSON answers, Cache-Control: no-store
    models.py      pydantic models of every body and answer
    runtime.py     the admin context of the gateway process, built on the first call
    workspaces.py  the workspace, its origin, purge
    marks.py, rules.py, keys.py (and their use: key-usage), members.py, audit.py, export.py (and delete with a
    receipt), usage.py (the workspace's usage counters per day)
    domains.py     custom domains: add, list, show, check, remove; their HSTS
    captures.py    capture jobs: submit, poll, list, delete the result, queue status, webhook secret
    billing.py     POST /_/billing/stripe
    openapi.py     the OpenAPI 3.1 document; reference.py renders it into docs/api.md

Paths name the workspace (``/_/api/v1/workspaces/{ns}/…``) although a key belongs to exactly one: the URL says
what it is about, a key used on another workspace's path is refused with 403 FORBIDDEN, and the same paths
will serve a dashboard session that belongs to several workspaces. ``GET /_/api/v1/key`` tells a client which
workspace its key belongs to.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.errors import NotFound
from gateway.routes.api import (
    audit,
    billing,
    captures,
    domains,
    export,
    keys,
    marks,
    members,
    rules,
    urlsigning,
    usage,
    workspaces,
)
from gateway.routes.api.endpoint import PREFIX, Endpoint, EveryMethod, routes
from gateway.routes.api.openapi import OPENAPI_PATH, document_route, openapi_document
from gateway.web.responses import error_response

ENDPOINTS: tuple[Endpoint, ...] = (
    *workspaces.ENDPOINTS,
    *export.ENDPOINTS,
    *marks.ENDPOINTS,
    *rules.ENDPOINTS,
    *keys.ENDPOINTS,
    *members.ENDPOINTS,
    *audit.ENDPOINTS,
    *usage.ENDPOINTS,
    *domains.ENDPOINTS,
    *urlsigning.ENDPOINTS,
    *captures.ENDPOINTS,
)
STRIPE_WEBHOOK = billing.STRIPE_WEBHOOK


def api_routes() -> list[BaseRoute]:
    """``/_/api/v1`` (one mount, so a request for an image is matched against one more pattern, not twenty) and
    the Stripe webhook; to be placed before the catch-all ``/_/…`` 404."""
    inner = [
        document_route(ENDPOINTS, PREFIX),
        *routes(ENDPOINTS, PREFIX),
        Route("/{rest:path}", EveryMethod(_not_found)),  # in the gateway's JSON shape, not Starlette's text
    ]
    return [Mount(PREFIX, routes=inner), *billing.ROUTES]


async def _not_found(request: Request) -> Response:
    return error_response(NotFound())


def document() -> dict[str, Any]:
    """The OpenAPI document as served."""
    return openapi_document(ENDPOINTS)


__all__ = ["ENDPOINTS", "OPENAPI_PATH", "PREFIX", "STRIPE_WEBHOOK", "api_routes", "document"]
