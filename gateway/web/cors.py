"""Per-workspace CORS as a pure ASGI middleware.

Starlette's ``CORSMiddleware`` fixes one policy at construction. Here each request asks
``policy_for(scope)`` for its workspace's compiled ``WorkspacePolicy`` (held by the tenancy cache, so a
settings change shows within its TTL, without a restart). ``None`` means "not a workspace request" (the
gateway's own ``/_/`` paths): the request passes untouched. A ``GatewayError`` raised by the lookup (an
unknown or suspended workspace) is answered here as its JSON error, because this layer sits outside the
app's exception handlers.

What a workspace response carries, and why:

- The list allows every origin (``*``): ``Access-Control-Allow-Origin: *`` on every response, with or
  without an ``Origin`` header, and no ``Vary: Origin``. The answer is then the same for every caller, so a
  CDN keeps a single copy for ``<img>``, ``fetch()`` and every site instead of one per origin.
  Credentials are never allowed (image URLs carry none), which is what makes ``*`` valid.
- Any other list: ``Vary: Origin`` on every response, requests without ``Origin`` included. The headers
  now depend on the caller, and without ``Vary`` a CDN could cache a no-``Origin`` answer (no
  ``Access-Control-Allow-Origin``) and replay it to a browser, or one site's answer to another. An
  allowed origin is echoed exactly as sent. The bytes are the same for every origin; only headers differ.
- A request with no ``Origin`` (a server, a plain ``<img>`` without ``crossorigin``) always passes.
- A disallowed ``Origin`` is answered here, without calling the app: 403 ``ORIGIN_NOT_ALLOWED``,
  ``Cache-Control: no-store``, ``Vary: Origin``, and no ``Access-Control-Allow-Origin``: reflecting an origin
  the owner refused would only look like a hole to every scanner, and the status is visible in DevTools.
- Every response the app sends, errors included, gets the same headers, so a page can read an error.
- Preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered here: 204 with
  ``Access-Control-Allow-Methods: GET, HEAD``, the requested headers echoed when each is a plain token
  (at most 20, 64 characters each), ``Access-Control-Max-Age: 86400``, and ``Vary`` on the request headers
  the answer reads. Any other method, or unreasonable headers, is 400 ``VALIDATION_ERROR``: the request is
  malformed for this API rather than unauthorised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError, OriginNotAllowed, ValidationError
from gateway.policy import WorkspacePolicy

PolicyLookup = Callable[[Scope], Awaitable[WorkspacePolicy | None]]

ALLOWED_METHODS = ("GET", "HEAD")
# Safelisted response headers (Content-Type, Cache-Control, ...) need no listing; these are the others a
# page's script may want: validators for its own caching, and when to retry.
EXPOSED_HEADERS = "Content-Length, ETag, Retry-After"
PREFLIGHT_MAX_AGE = "86400"
MAX_REQUESTED_HEADERS = 20
_HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_METHOD_REFUSED = "CORS preflight: only GET and HEAD are allowed"
_HEADERS_REFUSED = f"CORS preflight: at most {MAX_REQUESTED_HEADERS} request headers, each a plain name"

Headers = list[tuple[str, str]]
_ANY_ORIGIN_HEADERS: Headers = [
    ("access-control-allow-origin", "*"),
    ("access-control-expose-headers", EXPOSED_HEADERS),
]
_VARY_ON_ORIGIN: Headers = [("vary", "Origin")]


class CORSMiddleware:
    def __init__(self, app: ASGIApp, policy_for: PolicyLookup) -> None:
        self.app = app
        self.policy_for = policy_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            policy = await self.policy_for(scope)
        except GatewayError as exc:
            await _send_error(scope, send, exc, [])
            return
        if policy is None:
            await self.app(scope, receive, send)
            return

        request = _CORSRequest.read(scope)
        if request.origin is not None and not policy.origin_allowed(request.origin):
            await _send_error(scope, send, OriginNotAllowed(), _VARY_ON_ORIGIN)
            return
        if scope["method"] == "OPTIONS" and request.origin is not None and request.method is not None:
            await _answer_preflight(scope, send, policy, request)
            return

        cors_headers = _response_headers(policy, request.origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                _apply(message, cors_headers)
            await send(message)

        await self.app(scope, receive, send_with_cors)


@dataclass(frozen=True, slots=True)
class _CORSRequest:
    origin: str | None
    method: str | None  # Access-Control-Request-Method
    headers: str | None  # Access-Control-Request-Headers

    @classmethod
    def read(cls, scope: Scope) -> _CORSRequest:
        found: dict[bytes, list[str]] = {}
        for name, value in scope["headers"]:
            if name in (b"origin", b"access-control-request-method", b"access-control-request-headers"):
                found.setdefault(name, []).append(value.decode("latin-1"))

        def joined(name: bytes) -> str | None:
            # Two Origin headers join into a value that parses as no origin: refused, never guessed at.
            values = found.get(name)
            return None if values is None else ",".join(values)

        return cls(
            joined(b"origin"),
            joined(b"access-control-request-method"),
            joined(b"access-control-request-headers"),
        )


def _response_headers(policy: WorkspacePolicy, origin: str | None) -> Headers:
    if policy.any_origin:
        return _ANY_ORIGIN_HEADERS
    if origin is None:
        return _VARY_ON_ORIGIN
    return [
        ("access-control-allow-origin", origin),
        ("access-control-expose-headers", EXPOSED_HEADERS),
        ("vary", "Origin"),
    ]


async def _answer_preflight(scope: Scope, send: Send, policy: WorkspacePolicy, asked: _CORSRequest) -> None:
    vary = "Access-Control-Request-Method, Access-Control-Request-Headers"
    if not policy.any_origin:
        vary = f"Origin, {vary}"
    allow_origin = "*" if policy.any_origin else asked.origin or ""
    headers: Headers = [("access-control-allow-origin", allow_origin), ("vary", vary)]
    if asked.method not in ALLOWED_METHODS:
        await _send_error(scope, send, ValidationError(_METHOD_REFUSED), headers)
        return
    requested = _requested_headers(asked.headers)
    if requested is None:
        await _send_error(scope, send, ValidationError(_HEADERS_REFUSED), headers)
        return
    headers.append(("access-control-allow-methods", ", ".join(ALLOWED_METHODS)))
    if requested:
        headers.append(("access-control-allow-headers", ", ".join(requested)))
    headers.append(("access-control-max-age", PREFLIGHT_MAX_AGE))
    await send({"type": "http.response.start", "status": 204, "headers": _encode(headers)})
    await send({"type": "http.response.body", "body": b""})


def _requested_headers(value: str | None) -> list[str] | None:
    """The header names a preflight asks for, lower-cased; None when the request is unreasonable."""
    if value is None:
        return []
    names = list(dict.fromkeys(name.strip().lower() for name in value.split(",") if name.strip()))
    if len(names) > MAX_REQUESTED_HEADERS or not all(_HEADER_TOKEN.fullmatch(name) for name in names):
        return None
    return names


def _apply(message: Message, cors_headers: Headers) -> None:
    headers = MutableHeaders(scope=message)
    for name, value in cors_headers:
        if name == "vary":
            _add_vary(headers, value)
        else:
            headers[name] = value


def _add_vary(headers: MutableHeaders, value: str) -> None:
    tokens = (token.strip() for line in headers.getlist("vary") for token in line.split(","))
    present = [token for token in tokens if token]
    if "*" in present:
        return  # already varies on everything
    known = {token.lower() for token in present}
    added = [token.strip() for token in value.split(",") if token.strip().lower() not in known]
    if added:
        headers["vary"] = ", ".join(present + added)


async def _send_error(scope: Scope, send: Send, error: GatewayError, extra: Headers) -> None:
    body = json.dumps(error.body(), separators=(",", ":")).encode()
    headers: Headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("cache-control", "no-store"),
        *error.headers.items(),
        *extra,
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": _encode(headers)})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _encode(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
