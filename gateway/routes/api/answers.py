"""Successful management API answers: JSON from a response model, never cached anywhere.

Errors go through the gateway's one error writer (``gateway.web.responses.error_response``) instead, so an API
error has exactly the shape and headers of an image path's.
"""

from __future__ import annotations

from pydantic import BaseModel

from gateway.web.responses import Answer, RawResponse

_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")


def json_response(status: int, body: BaseModel | None) -> RawResponse:
    """``body`` as JSON with ``status``; ``None`` is 204 No Content."""
    if body is None:
        return RawResponse(Answer(204, [_NO_STORE], b"", None, None))
    return json_bytes_response(status, body.model_dump_json().encode())


def json_bytes_response(status: int, data: bytes) -> RawResponse:
    headers = [_JSON, (b"content-length", str(len(data)).encode()), _NO_STORE]
    return RawResponse(Answer(status, headers, data, None, None))
