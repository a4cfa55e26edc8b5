"""``ImageRequest``: what the request path reads of an HTTP request, taken from the ASGI scope once.

The path is split here, once, into the namespace and the key: ``/{namespace}/{key}``. A path with no slash
after the namespace (``/acme``) has no key (``key is None``); ``/acme/`` has the empty key (``?src=`` and
``?capture=`` requests). The gateway's own paths (``/_`` and ``/_/…``) are not image requests at all.

Headers the path reads are joined when repeated (``a, b``), as HTTP lists are: two ``Origin`` headers then
make a value that is no origin, which the CORS gate refuses rather than guesses at.
"""

from __future__ import annotations

import time

from starlette.types import Scope

# Set by the hit fast path when it hands a request on to the full path, so the full path reads nothing twice.
SCOPE_KEY = "imgate.request"

_READ = {
    b"accept": 0,
    b"if-none-match": 1,
    b"origin": 2,
    b"access-control-request-method": 3,
    b"access-control-request-headers": 4,
}


class ImageRequest:
    __slots__ = (
        "accept",
        "if_none_match",
        "key",
        "method",
        "namespace",
        "origin",
        "query",
        "requested_headers",
        "requested_method",
        "started",
    )

    def __init__(
        self,
        method: str,
        namespace: str,
        key: str | None,
        query: bytes,
        accept: str | None = None,
        if_none_match: str | None = None,
        origin: str | None = None,
        requested_method: str | None = None,
        requested_headers: str | None = None,
    ) -> None:
        self.started = time.perf_counter()
        self.method = method
        self.namespace = namespace
        self.key = key
        self.query = query  # raw, as sent
        self.accept = accept
        self.if_none_match = if_none_match
        self.origin = origin
        self.requested_method = requested_method  # Access-Control-Request-Method (a preflight)
        self.requested_headers = requested_headers  # Access-Control-Request-Headers

    @classmethod
    def read(cls, scope: Scope) -> ImageRequest | None:
        """The request of an ``http`` scope, or None for the gateway's own paths."""
        path: str = scope["path"]
        namespace, slash, key = path[1:].partition("/")
        if namespace == "_":
            return None
        found: list[str | None] = [None, None, None, None, None]
        for name, value in scope["headers"]:
            index = _READ.get(name)
            if index is not None:
                text = value.decode("latin-1")
                seen = found[index]
                found[index] = text if seen is None else f"{seen}, {text}"
        return cls(scope["method"], namespace, key if slash else None, scope["query_string"], *found)

    @property
    def head(self) -> bool:
        return self.method == "HEAD"

    @property
    def preflight(self) -> bool:
        return self.method == "OPTIONS" and self.origin is not None and self.requested_method is not None
