"""Response builders shared by the routes: image bytes, 304s and JSON errors."""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.cache.memory import MemoryEntry
from gateway.errors import GatewayError


class BodylessOnHead(Response):
    """A Response that leaves the body out on HEAD (Starlette's own sends it regardless)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


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


class RawResponse(Response):
    """Sends pre-encoded headers as they are: the cache-hit path builds no header objects."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.raw_headers = headers
        self.body = body
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


_TIERS = {tier: (b"x-imgate-cache", tier.encode()) for tier in ("memory", "store", "miss", "coalesced")}


def image_response(entry: MemoryEntry, tier: str, if_none_match: str | None) -> Response:
    if if_none_match and etag_matches(if_none_match, entry.etag):
        headers = [(k, v) for k, v in entry.raw_headers if k not in (b"content-type", b"content-length")]
        headers.append(_TIERS[tier])
        return RawResponse(304, headers, b"")
    return RawResponse(200, [*entry.raw_headers, _TIERS[tier]], entry.data)


def error_response(exc: GatewayError) -> Response:
    headers = {"Cache-Control": "no-store", **exc.headers}
    return BodylessOnHead(
        content=json.dumps(exc.body()).encode(),
        status_code=exc.status,
        media_type="application/json",
        headers=headers,
    )
