"""``ImageRequest``: what the request path reads of an HTTP request, taken from the ASGI scope once.

The path is split here, once, into the namespace and the key: ``/{namespace}/{key}``. A path with no slash
after the namespace (``/acme``) has no key (``key is None``); ``/acme/`` has the empty key (``?src=`` and
``?capture=`` requests). The gateway's own paths (``/_`` and ``/_/…``) are not image requests at all.

On a custom domain (a Host that is none of the gateway's own, ``gateway.web.hosts``) the whole path is the key
(``/products/shoe.jpg`` is ``products/shoe.jpg``, ``/_/health`` is ``_/health``): ``domain`` holds the host,
and ``namespace`` is empty until the resolve step has found the domain's workspace.

Headers the path reads are joined when repeated (``a, b``), as HTTP lists are: two ``Origin`` headers then
make a value that is no origin, which the CORS gate refuses rather than guesses at.
"""

from __future__ import annotations

import time

from starlette.types import Scope

from gateway.web.hosts import HostRouting

# Set by the hit fast path when it hands a request on to the full path, so the full path reads nothing twice.
SCOPE_KEY = "imgate.request"

_READ = {
    b"accept": 0,
    b"if-none-match": 1,
    b"origin": 2,
    b"access-control-request-method": 3,
    b"access-control-request-headers": 4,
    b"host": 5,
    b"x-forwarded-host": 6,  # believed only from trusted proxies (gateway.web.hosts)
    b"x-forwarded-proto": 7,
}


class ImageRequest:
    __slots__ = (
        "accept",
        "domain",
        "https",
        "if_none_match",
        "key",
        "method",
        "namespace",
        "origin",
        "query",
        "raw_path",
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
        raw_path: bytes = b"",
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
        self.raw_path = raw_path  # the path as sent, still percent-encoded (signed URLs sign it)
        self.domain: str | None = None  # the custom domain asked for; None on the gateway's own hosts
        self.https = False  # the client's connection was HTTPS (only known, and only read, on a custom domain)

    @classmethod
    def read(cls, scope: Scope, hosts: HostRouting | None = None) -> ImageRequest | None:
        """The request of an ``http`` scope, or None for the gateway's own paths (on its own hosts). Without
        ``hosts`` every host is the gateway's own."""
        path: str = scope["path"]
        found: list[str | None] = [None, None, None, None, None, None, None, None]
        for name, value in scope["headers"]:
            index = _READ.get(name)
            if index is not None:
                text = value.decode("latin-1")
                seen = found[index]
                found[index] = text if seen is None else f"{seen}, {text}"
        accept, if_none_match, origin, requested_method, requested_headers, host, forwarded_host, proto = found
        domain = hosts.custom_domain(scope, host, forwarded_host) if hosts is not None else None
        key: str | None
        if domain is None:
            namespace, slash, rest = path[1:].partition("/")
            if namespace == "_":
                return None
            key = rest if slash else None
        else:
            namespace, key = "", path[1:]
        request = cls(
            scope["method"],
            namespace,
            key,
            scope["query_string"],
            accept,
            if_none_match,
            origin,
            requested_method,
            requested_headers,
            raw_path=scope.get("raw_path") or path.encode("utf-8"),
        )
        if domain is not None and hosts is not None:
            request.domain = domain
            request.https = hosts.https(scope, proto)
        return request

    @property
    def head(self) -> bool:
        return self.method == "HEAD"

    @property
    def preflight(self) -> bool:
        return self.method == "OPTIONS" and self.origin is not None and self.requested_method is not None
