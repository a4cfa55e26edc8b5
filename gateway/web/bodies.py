"""Reading a request body under a byte cap: the one reader of the management API and the dashboard's forms.

A body over the cap is ``413 PAYLOAD_TOO_LARGE``: refused from ``Content-Length`` before anything is read, and
counted while streaming for a chunked one, so no request holds more than the cap in memory. A
``Content-Length`` that is not ASCII digits is ``400 VALIDATION_ERROR`` (``str.isdigit`` also accepts ``²`` or
``٣``, which ``int`` then refuses). Chunks are joined once at the end: appending to ``bytes`` copies the whole
body at every chunk.
"""

from __future__ import annotations

from starlette.requests import Request

from gateway.errors import PayloadTooLarge, ValidationError


async def read_body(request: Request, cap: int, too_large: str | None = None) -> bytes:
    """The whole body, at most ``cap`` bytes; ``too_large`` is the 413's message (default: names the cap)."""
    message = too_large or f"the request body is limited to {cap} bytes"
    length = request.headers.get("content-length")
    if length is not None:
        length = length.strip()
        if not (length.isascii() and length.isdigit()):
            raise ValidationError("Content-Length: must be a number of bytes")
        if int(length) > cap:
            raise PayloadTooLarge(message)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise PayloadTooLarge(message)
        chunks.append(chunk)
    return b"".join(chunks)
