"""Memory-tier hits answered in front of the framework.

A hit needs four dict lookups (workspace, plan, negotiated key, memory tier) and one ``send``; Starlette's
error, exception, routing and CORS layers around it cost more than that. This pure ASGI layer answers a
GET or HEAD only when every one of those lookups succeeds for a workspace whose CORS list is ``*``, with
exactly the headers the full path would send; anything else (a miss, an error, a restricted CORS list, a
workspace not yet in the tenancy cache, the gateway's own paths) goes through the application unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.services import Services
from gateway.web.cors import EXPOSED_HEADERS
from gateway.web.responses import etag_matches
from transforms.negotiate import choose_format

_ANY_ORIGIN = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
)
_MEMORY = (b"x-imgate-cache", b"memory")
_DROPPED_ON_304 = (b"content-type", b"content-length")


class FastHits:
    def __init__(self, app: ASGIApp, services: Services | None = None) -> None:
        self.app = app
        # Set by the application's lifespan once the services exist; until then every request falls through.
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.services is not None and scope["method"] in ("GET", "HEAD"):
            if await self._answer(self.services, scope, send):
                return
        await self.app(scope, receive, send)

    async def _answer(self, services: Services, scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        namespace, slash, key = path[1:].partition("/")
        if not slash or not key or namespace == "_":
            return False
        tenant = services.tenancy.peek(namespace)
        if tenant is None or not tenant.policy.any_origin:
            return False
        plan = services.plans.get(namespace, key, scope["query_string"], tenant)
        if plan is None:
            return False
        accept = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        chosen, _ = choose_format(plan.options, accept)
        cache_key = plan.keys.get(chosen)
        entry = services.renderer.memory_hit(cache_key, plan.purged_after) if cache_key else None
        if entry is None:
            return False
        if if_none_match and etag_matches(if_none_match, entry.etag):
            headers = [h for h in entry.raw_headers if h[0] not in _DROPPED_ON_304]
            headers += (_MEMORY, *_ANY_ORIGIN)
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        await send(
            {"type": "http.response.start", "status": 200, "headers": [*entry.raw_headers, _MEMORY, *_ANY_ORIGIN]}
        )
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else entry.data})
        return True
