"""One JSON request to an in-process gateway app (``tests.gateway.web.running``), with a body."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from tests.gateway.web.running import Sent


async def send(app: Any, method: str, path: str, secret: str, body: object = None, query: bytes = b"") -> Sent:
    data = b"" if body is None else json.dumps(body).encode()
    headers = [(b"authorization", f"Bearer {secret}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    out: list[MutableMapping[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": data, "more_body": False}

    async def sent(message: MutableMapping[str, Any]) -> None:
        out.append(message)

    await app(scope, receive, sent)
    start = out[0]
    return Sent(start["status"], list(start["headers"]), b"".join(m.get("body", b"") for m in out[1:]))
