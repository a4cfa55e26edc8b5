"""One answer of a loopback test site built on ``http.server``: status, content type, length, extra headers,
body; a client that went away meanwhile (a browser disposing of a context) is no error."""

from __future__ import annotations

from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler


def answer(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    content_type: str = "text/html; charset=utf-8",
) -> None:
    try:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)
    except OSError:
        pass
