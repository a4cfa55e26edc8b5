"""One management API call from top to bottom, and the table every route is declared in.

An ``Endpoint`` says everything about a route once: method, path, the scope it needs, its body, query and
response models, its handler. The Starlette routes and the OpenAPI document are both built from that table,
so no route can be served without being documented or documented without being served.

A call, in order (``serve``):

1. authenticate the key (``auth``): 401;
2. the key's workspace must be the path's (403 FORBIDDEN), the client address in its IP allowlist (403
   IP_NOT_ALLOWED), the key's scope enough for the route (403 FORBIDDEN);
3. query string and body into their models (``inputs``): 400, 413;
4. the handler calls the admin layer with a context acting as ``key:<prefix>`` with the key's scope (what a
   key may do beyond its scope is the admin layer's rule, ``gateway.admin.roles``); an ``AdminError``
   becomes 400 VALIDATION_ERROR (``Invalid``), 404 NOT_FOUND, 403 FORBIDDEN or 409 CONFLICT, with the admin
   layer's message (``gateway.admin.errors.http_error``);
5. the answer: JSON and ``Cache-Control: no-store``, errors through the gateway's one error writer;
6. an audit row for every call of an authenticated key, in the key's workspace: the route template (never
   the URL), the status, the latency. Calls without a valid key name no actor, and are not recorded: they
   would let anyone fill any workspace's log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.accounts.keys import ApiKey
from gateway.admin import AdminContext, AdminError
from gateway.admin.audit import audit_call
from gateway.admin.errors import http_error as admin_http_error
from gateway.admin.workspaces import load
from gateway.errors import GatewayError, Internal, MethodNotAllowed, NotFound
from gateway.routes.api import auth
from gateway.routes.api.answers import json_response
from gateway.routes.api.inputs import parse_body, parse_query, read_body
from gateway.routes.api.runtime import ApiRuntime
from gateway.web.responses import error_response

log = logging.getLogger("imgate.api")

PREFIX = "/_/api/v1"
_M = TypeVar("_M", bound=BaseModel)
# Path parameters that are numbers: ``{rule_id}`` as Starlette's ``int`` converter matches it, bounded so that
# no 30-digit number reaches a store column of 64 bits.
_INT_PARAMS = frozenset({"rule_id"})
_MAX_ID = 2**62


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What a handler gets: an admin context acting as the key, the namespace, and the parsed input."""

    ctx: AdminContext
    key: ApiKey
    namespace: str
    params: Mapping[str, Any]
    _body: BaseModel | None = field(default=None, repr=False)
    _query: BaseModel | None = None

    def body(self, model: type[_M]) -> _M:
        if not isinstance(self._body, model):
            raise TypeError(f"this endpoint declares no {model.__name__} body")
        return self._body

    def query(self, model: type[_M]) -> _M:
        if not isinstance(self._query, model):
            raise TypeError(f"this endpoint declares no {model.__name__} query")
        return self._query


Handler = Callable[[ApiCall], Awaitable[BaseModel | None]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    # Starlette's form, with converters: ``/_/api/v1/workspaces/{ns}/rules/{rule_id:int}``.
    route: str
    summary: str
    handler: Handler
    tag: str
    scope: str = "read"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None  # None: 204 No Content
    status: int = 200
    description: str = ""
    # Refusals particular to this call, beyond those every call can get (401, 403, 400, 413): status -> when.
    errors: Mapping[int, str] = field(default_factory=dict)
    # Deleting the workspace deletes its audit rows and keys too: the row of that call belongs to no workspace,
    # or a workspace created again under the name would inherit it.
    removes_workspace: bool = False
    # A ``Location`` for the answer, from its body (a 202 names where to poll).
    location: Callable[[BaseModel], str] | None = None

    @property
    def path(self) -> str:
        """The OpenAPI form and the audit's template: ``/_/api/v1/workspaces/{ns}/rules/{rule_id}``."""
        return "/".join(part.split(":")[0] + "}" if ":" in part else part for part in self.route.split("/"))

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def operation_id(self) -> str:
        return self.handler.__name__.lstrip("_")


def routes(endpoints: Sequence[Endpoint], mount: str = "") -> list[Route]:
    """One Starlette route per path (relative to ``mount``, where they are mounted); a method the path does not
    have is 405 with ``Allow``, in JSON."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint in endpoints:
        methods = by_path.setdefault(endpoint.route, {})
        if endpoint.method in methods:
            raise ValueError(f"{endpoint.operation} is declared twice")
        methods[endpoint.method] = endpoint
    return [Route(path.removeprefix(mount), EveryMethod(_dispatcher(methods))) for path, methods in by_path.items()]


class EveryMethod:
    """A request handler as a plain ASGI app: Starlette then routes every method to it, so a method the path
    does not take is answered here in the gateway's JSON shape instead of by Starlette's plain-text 405."""

    def __init__(self, handle: Callable[[Request], Awaitable[Response]]) -> None:
        self._handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._handle(Request(scope, receive))
        await response(scope, receive, send)


def _dispatcher(methods: Mapping[str, Endpoint]) -> Callable[[Request], Awaitable[Response]]:
    allow = ", ".join(sorted(methods))

    async def dispatch(request: Request) -> Response:
        endpoint = methods.get(request.method)
        if endpoint is None:
            refused = MethodNotAllowed(f"this path takes {allow}", headers={"Allow": allow})
            return error_response(refused)
        return await serve(endpoint, request)

    return dispatch


async def serve(endpoint: Endpoint, request: Request) -> Response:
    runtime = ApiRuntime.of(request.app)
    try:
        key = await auth.authenticate(runtime.ctx, request.headers)
    except GatewayError as exc:
        return error_response(exc)
    except AdminError as exc:  # the account store unreachable while looking the key up
        return error_response(admin_http_error(exc))
    except Exception:
        log.exception("unhandled error authenticating %s", endpoint.operation)
        return error_response(Internal())
    ctx = runtime.ctx.as_key(key.prefix, key.namespace, key.scope)
    # One row for the whole call: the admin operations it makes record none of their own.
    async with audit_call(ctx, key.namespace, endpoint.operation) as audited:
        response = await _answer(endpoint, request, runtime, ctx, key)
        audited.status = response.status_code
        if endpoint.removes_workspace and response.status_code < 400:
            audited.namespace = ""
    return response


async def _answer(
    endpoint: Endpoint, request: Request, runtime: ApiRuntime, ctx: AdminContext, key: ApiKey
) -> Response:
    try:
        return await _call(endpoint, request, runtime, ctx, key)
    except GatewayError as exc:
        return error_response(exc)
    except AdminError as exc:
        return error_response(http_error(exc))
    except Exception:
        log.exception("unhandled error in %s", endpoint.operation)
        return error_response(Internal())


async def _call(endpoint: Endpoint, request: Request, runtime: ApiRuntime, ctx: AdminContext, key: ApiKey) -> Response:
    namespace = str(request.path_params.get("ns", key.namespace))
    auth.check_namespace(key, namespace)
    workspace = await load(ctx, namespace)
    auth.check_address(workspace, runtime.proxies.client_address(request.scope))
    auth.check_scope(key, endpoint.scope)
    params = _checked_params(request.path_params)
    query = parse_query(endpoint.query, request.query_params.multi_items())
    body = None
    if endpoint.body is not None:
        body = parse_body(endpoint.body, await read_body(request, runtime.settings.api_max_body_bytes))
    result = await endpoint.handler(ApiCall(ctx, key, namespace, params, body, query))
    response = json_response(endpoint.status, result)
    if endpoint.location is not None and result is not None:
        response.raw_headers.append((b"location", endpoint.location(result).encode()))
    return response


def _checked_params(params: Mapping[str, Any]) -> dict[str, Any]:
    for name in _INT_PARAMS & params.keys():
        if not 0 < params[name] <= _MAX_ID:
            raise NotFound(f"no {name.replace('_', ' ')} {params[name]}")
    return dict(params)


# The admin layer's one mapping, shared with the dashboard (kept under this name for the API's modules).
http_error = admin_http_error
