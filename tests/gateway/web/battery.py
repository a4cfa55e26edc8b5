"""The methods and targets an outside battery sent, and what the gateway answers each with.

Shared by the in-process test (``test_every_answer.py``) and the one over raw sockets to a real Granian
gateway (``tests/integration/test_raw_http.py``). Every answer is the JSON error shape with
``Cache-Control: no-store``; none is a redirect.
"""

from __future__ import annotations

from dataclasses import dataclass

# 26 forms: the common methods other than GET and HEAD, WebDAV and other registered ones, made-up ones, and
# the right names in the wrong case (methods are case-sensitive: `get` is not GET).
METHODS = (
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "TRACE",
    "OPTIONS",  # without Access-Control-Request-Method: not a preflight
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "REPORT",
    "PURGE",
    "LINK",
    "UNLINK",
    "BREW",
    "FOO",
    "M-SEARCH",
    "get",
    "head",
    "post",
    "options",
    "Get",
)
IMAGE_METHODS = "GET, HEAD, OPTIONS"
GATEWAY_METHODS = "GET, HEAD"


@dataclass(frozen=True)
class Expected:
    status: int
    code: str
    allow: str | None = None  # the Allow header of a 405


# Per path, what every method in METHODS gets. "demo" is a workspace with a local origin.
BY_PATH = {
    "/demo/photo-kite.jpg": Expected(405, "METHOD_NOT_ALLOWED", IMAGE_METHODS),
    "/demo/photo-kite.jpg?w=10": Expected(405, "METHOD_NOT_ALLOWED", IMAGE_METHODS),
    "/demo/": Expected(405, "METHOD_NOT_ALLOWED", IMAGE_METHODS),
    "/demo": Expected(405, "METHOD_NOT_ALLOWED", IMAGE_METHODS),
    "/": Expected(404, "NOT_FOUND"),  # no workspace: nothing there to allow methods on
    "/nobody/x.jpg": Expected(404, "NOT_FOUND"),
    "/_/health": Expected(405, "METHOD_NOT_ALLOWED", GATEWAY_METHODS),
    "/_/unknown": Expected(404, "NOT_FOUND"),
    "/_": Expected(404, "NOT_FOUND"),
}

# Request targets (as sent on the request line) that are not a plain image path, with GET unless given.
ODD_TARGETS = {
    ("OPTIONS", "*"): Expected(400, "VALIDATION_ERROR"),
    ("M-SEARCH", "*"): Expected(400, "VALIDATION_ERROR"),
    ("CONNECT", "evil.example:443"): Expected(400, "VALIDATION_ERROR"),
    ("GET", "/demo/photo%0d%0akite.jpg"): Expected(400, "VALIDATION_ERROR"),
    ("GET", "/demo/photo-kite.jpg%0a"): Expected(400, "VALIDATION_ERROR"),
    ("GET", "/demo/%0d%0aLocation:%20http://evil.example/"): Expected(400, "VALIDATION_ERROR"),
    ("GET", "/demo/%00photo-kite.jpg"): Expected(400, "VALIDATION_ERROR"),
    ("HEAD", "/demo/photo%0akite.jpg"): Expected(400, "VALIDATION_ERROR"),
    ("GET", "/%0d%0a/photo-kite.jpg"): Expected(404, "NOT_FOUND"),  # no such workspace
    ("GET", "/_/health%0a"): Expected(404, "NOT_FOUND"),
    ("GET", "/_/health/"): Expected(404, "NOT_FOUND"),  # never redirected to /_/health
    ("GET", "/demo/photo-kite.jpg/"): Expected(404, "NOT_FOUND"),  # a key with a slash: no such image
}
