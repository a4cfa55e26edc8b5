"""Memory-tier hits answered in front of the framework.

A hit is a few dict lookups (workspace, plan, memory tier) and one ``send``; Starlette's error, exception and
routing layers around it cost more than that. This pure ASGI layer reads the request once
(``ImageRequest.read``) and asks the request path for a hit (``RequestPath.hit``: the same steps, CORS gate,
admission hook and response writer as the full path). Anything else (a miss, an error, a refused origin, a
preflight, a workspace or URL not yet in its cache, the gateway's own paths) goes to the application
unchanged, with the request already read attached to the scope.

A request to a custom domain (a Host none of ``public_hosts``) never reaches the framework's routes, whatever
its method or path: ``/_/health`` there is an image key, and the API and dashboard are not served there. It goes
straight to the image route, which resolves the host (or answers 404).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.delivery.path import RequestPath
from gateway.routes.images import image
from gateway.web.hosts import HostRouting
from gateway.web.request import SCOPE_KEY, ImageRequest
from gateway.web.responses import send_answer


class FastHits:
    def __init__(self, app: ASGIApp, path: RequestPath | None = None) -> None:
        self.app = app
        # Set by the application's lifespan once the services exist; until then every request falls through.
        self.path = path
        self.hosts: HostRouting | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self.path
        if path is not None and scope["type"] == "http":
            hosts = self.hosts
            if scope["method"] in ("GET", "HEAD"):
                request = ImageRequest.read(scope, hosts)
                if request is not None:
                    answer = path.hit(request)
                    if answer is not None:
                        await send_answer(send, answer, request.head)
                        path.finished(request, answer)
                        return
                    scope[SCOPE_KEY] = request
            elif hosts is not None:
                request = ImageRequest.read(scope, hosts)
                if request is not None:
                    scope[SCOPE_KEY] = request
            else:
                request = None
            if request is not None and request.domain is not None:
                scope["app"] = self.app  # what the image route reads the services from, as Starlette sets it
                await image(scope, receive, send)
                return
        await self.app(scope, receive, send)
