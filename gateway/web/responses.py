"""The response writer: every header and body the gateway answers with is written here.

- ``representation_headers``: an output's own headers (type, length, cache-control, ETag), encoded once when
  the output enters the memory tier, so a hit encodes nothing.
- ``image_answer``: 200 or 304 (``If-None-Match``) for an output, plus ``Vary``, the CORS headers, any headers
  the request hooks add, ``X-Imgate-Ignored`` (``ignored_headers``, lenient imgix mode) and ``X-Imgate-Cache``
  (the tier that answered).
- ``preflight_answer``: a CORS preflight's 204.
- ``error_answer``: the one JSON error writer: ``{"error": {"code", "message"}}``, ``Cache-Control: no-store``,
  the error's own headers (``Retry-After``) and the workspace's CORS headers.

An ``Answer`` is sent as it is, by either front with ``send_answer`` (pure ASGI), or through Starlette's
exception handlers as a ``RawResponse``; both leave the body out for HEAD.
"""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.cache.freshness import cache_control
from gateway.cache.keys import Kind
from gateway.cache.memory import MemoryEntry
from gateway.errors import GatewayError
from gateway.web import cors as _cors
from gateway.web.cors import CORS, Headers

TIERS = ("memory", "store", "miss", "coalesced")
_TIER_HEADERS = {tier: (b"x-imgate-cache", tier.encode()) for tier in TIERS}
_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")
_PREFLIGHT = (
    (b"access-control-allow-methods", ", ".join(_cors.ALLOWED_METHODS).encode()),
    (b"access-control-max-age", _cors.PREFLIGHT_MAX_AGE.encode()),
)  # the header names a preflight allows go between these two


class Answer:
    """What to send: status, headers (in order) and body; ``tier``, ``code`` and ``kind`` say what happened."""

    __slots__ = ("body", "code", "content_type", "headers", "kind", "status", "tier")

    def __init__(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, tier: str | None, code: str | None
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.tier = tier  # the cache tier of an image answer
        self.code = code  # the error code of an error answer
        self.kind: Kind | None = None  # the source kind, set by the request path once the request was planned
        self.content_type: str | None = None  # an image answer's format (a 304 has none), for the record hooks


def representation_headers(
    content_type: str, length: int, max_age: int, etag: str, vary: str
) -> tuple[Headers, Headers, Headers]:
    """An output's own headers, encoded once when it enters the memory tier: for a 200, the subset a 304
    repeats (no body, so no type or length), and its ``Vary`` (``Accept`` when the format was negotiated)."""
    validators = (
        (b"cache-control", cache_control(max_age).encode()),
        (b"etag", etag.encode("latin-1")),
    )
    full = ((b"content-type", content_type.encode("latin-1")), (b"content-length", str(length).encode()), *validators)
    return full, validators, _vary(vary)


def ignored_headers(names: tuple[str, ...]) -> Headers:
    """``X-Imgate-Ignored``: the imgix parameters a lenient workspace rendered without (names as written; the
    parser let through only published imgix names, so they are plain tokens)."""
    return ((b"x-imgate-ignored", ", ".join(names).encode("latin-1")),) if names else ()


def _vary(vary: str) -> Headers:
    return ((b"vary", vary.encode("latin-1")),) if vary else ()


def image_answer(entry: MemoryEntry, tier: str, cors: CORS, extra: Headers, if_none_match: str | None) -> Answer:
    """An output as 200, or as 304 when ``If-None-Match`` names its ETag."""
    if not cors.vary:
        varies = entry.vary_headers
    elif not entry.vary:
        varies = cors.vary_headers
    else:
        varies = _vary(f"{entry.vary}, {cors.vary}")
    if if_none_match is not None and etag_matches(if_none_match, entry.etag):
        headers = [*entry.not_modified, *varies, _TIER_HEADERS[tier], *cors.headers, *extra]
        return Answer(304, headers, b"", tier, None)
    answer = Answer(200, [*entry.headers, *varies, _TIER_HEADERS[tier], *cors.headers, *extra], entry.data, tier, None)
    answer.content_type = entry.content_type
    return answer


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    opaque = etag.strip('"')
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate.strip('"') == opaque:
            return True
    return False


def preflight_answer(cors: CORS, requested: list[str]) -> Answer:
    """A preflight's 204; ``requested`` are the header names it asked for (already checked)."""
    allowed = ((b"access-control-allow-headers", ", ".join(requested).encode("latin-1")),) if requested else ()
    headers = [*cors.headers, *cors.vary_headers, _PREFLIGHT[0], *allowed, _PREFLIGHT[1]]
    return Answer(204, headers, b"", None, None)


def error_answer(error: GatewayError, cors: CORS = _cors.NO_CORS, extra: Headers = ()) -> Answer:
    """The one JSON error writer. ``cors``: the workspace's CORS headers (none on the gateway's own paths);
    ``extra``: what the request hooks added."""
    body = json.dumps(error.body(), separators=(",", ":")).encode()
    headers = [
        _JSON,
        (b"content-length", str(len(body)).encode()),
        _NO_STORE,
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()),
        *cors.vary_headers,
        *cors.headers,
        *extra,
    ]
    return Answer(error.status, headers, body, None, error.code)


async def send_answer(send: Send, answer: Answer, head: bool) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": b"" if head else answer.body})


class RawResponse(Response):
    """An ``Answer`` as a Starlette response (for the exception handlers): headers as they are, no body on HEAD."""

    def __init__(self, answer: Answer) -> None:
        self.status_code = answer.status
        self.raw_headers = answer.headers
        self.body = answer.body
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else self.body})


def error_response(error: GatewayError) -> RawResponse:
    """An error on one of the gateway's own paths (no workspace, so no CORS)."""
    return RawResponse(error_answer(error))
