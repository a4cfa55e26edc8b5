"""Image requests through Starlette: ``GET /{ns}/{key}?…``, ``/{ns}/?src={url}&…``, ``/{ns}/?capture={url}&…``.

A thin adapter, the router's default (``gateway.app``), so every method and every target no other route takes
reaches it: the request (as the hit fast path already read it, or read here) goes to the request path
(``gateway.delivery.path``), which answers everything, errors, refused methods and CORS preflights included,
and the answer is sent as it is. Most hits never get here: the fast path in front answers them with the same
functions. A target that is not a path at all (``OPTIONS *``, ``CONNECT host:port``) is a 400 here: it
names nothing this gateway serves.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from gateway.errors import NotFound, ValidationError
from gateway.services import Services
from gateway.web.request import SCOPE_KEY, ImageRequest
from gateway.web.responses import error_answer, send_answer

NOT_A_PATH = "the request target must be a path"


class ImageRoute:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})  # no WebSocket endpoint: refused before accept
            return
        head = scope["method"] == "HEAD"
        if not scope["path"].startswith("/"):
            await send_answer(send, error_answer(ValidationError(NOT_A_PATH)), head)
            return
        services: Services = scope["app"].state.services
        request = scope.get(SCOPE_KEY) or ImageRequest.read(scope, services.hosts)
        if request is None:  # a gateway path (/_/…) that no route of its own took
            await send_answer(send, error_answer(NotFound()), head)
            return
        answer = await services.path.serve(request)
        await send_answer(send, answer, request.head)
        services.path.finished(request, answer)


image = ImageRoute()
