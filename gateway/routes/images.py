"""Image requests through Starlette: ``GET /{ns}/{key}?…``, ``/{ns}/?src={url}&…``, ``/{ns}/?capture={url}&…``.

A thin adapter, mounted as a plain ASGI app so that every method reaches it: the request (as the hit fast
path already read it, or read here) goes to the request path (``gateway.delivery.path``), which answers
everything, errors, refused methods and CORS preflights included, and the answer is sent as it is. Most hits
never get here: the fast path in front answers them with the same functions.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from gateway.errors import NotFound
from gateway.services import Services
from gateway.web.request import SCOPE_KEY, ImageRequest
from gateway.web.responses import error_answer, send_answer


class ImageRoute:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        request = scope.get(SCOPE_KEY) or ImageRequest.read(scope)
        if request is None:  # the router sends only workspace paths here
            await send_answer(send, error_answer(NotFound()), scope["method"] == "HEAD")
            return
        answer = await services.path.serve(request)
        await send_answer(send, answer, request.head)
        services.path.finished(request, answer)


image = ImageRoute()
