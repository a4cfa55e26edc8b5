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


def _cache_control(max_age: int) -> str:
    # A year is "immutable": the URL changes (v=) when the image must; shorter ages (info, captures) are not.
    if max_age >= 31_536_000:
        return f"public, max-age={max_age}, immutable"
    return f"public, max-age={max_age}"


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


def image_response(entry: MemoryEntry, tier: str, if_none_match: str | None) -> Response:
    headers = {"Cache-Control": _cache_control(entry.max_age), "ETag": entry.etag, "X-Imgate-Cache": tier}
    if entry.vary:
        headers["Vary"] = entry.vary
    if if_none_match and etag_matches(if_none_match, entry.etag):
        return BodylessOnHead(status_code=304, headers=headers)
    return BodylessOnHead(content=entry.data, media_type=entry.content_type, headers=headers)


def error_response(exc: GatewayError) -> Response:
    headers = {"Cache-Control": "no-store", **exc.headers}
    return BodylessOnHead(
        content=json.dumps(exc.body()).encode(),
        status_code=exc.status,
        media_type="application/json",
        headers=headers,
    )
