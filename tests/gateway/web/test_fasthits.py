"""The hit fast path answers exactly what the full application answers, and only for plain hits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.app import create_app
from gateway.settings import load_settings
from gateway.web.fasthits import FastHits
from tests.conftest import DEMO_IMAGES


@contextlib.asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[FastHits]:
    store = SqliteAccountStore(tmp_path / "a.sqlite3")
    store.create_workspace(Workspace(namespace="open", origin_kind="local", origin={"root": str(DEMO_IMAGES)}))
    store.create_workspace(
        Workspace(
            namespace="locked",
            origin_kind="local",
            origin={"root": str(DEMO_IMAGES)},
            allowed_origins=("https://shop.example",),
        )
    )
    app = create_app(load_settings(environ={"IMGATE_DATA_DIR": str(tmp_path), "IMGATE_RESULT_STORE": "none"}), store)
    messages: list[dict[str, Any]] = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    waiting = asyncio.Event()

    async def lifespan_receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await waiting.wait()
        return {"type": "lifespan.shutdown"}

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, lifespan_receive, send)
    )
    while not sent:
        await asyncio.sleep(0.01)
    try:
        yield app
    finally:
        waiting.set()
        await task


async def call(
    app: Any, path: str, query: bytes, method: str = "GET", **headers: str
) -> tuple[int, dict[bytes, bytes], bytes]:
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
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    out: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        out.append(dict(message))

    await app(scope, receive, send)
    return out[0]["status"], dict(out[0]["headers"]), b"".join(m.get("body", b"") for m in out[1:])


@pytest.mark.anyio
async def test_fast_hits_match_the_full_path(tmp_path: Path) -> None:
    async with running(tmp_path) as app:
        path, query = "/open/photo-grey.jpg", b"w=50&auto=format"
        status, headers, body = await call(app, path, query, accept="image/webp,*/*")
        assert status == 200 and headers[b"x-imgate-cache"] == b"miss"
        seen: list[bytes] = []
        original_answer = app._answer

        async def spy(services: Any, scope: Any, send: Any) -> bool:
            answered = await original_answer(services, scope, send)
            seen.append(b"fast" if answered else b"slow")
            return answered

        app._answer = spy  # type: ignore[method-assign]
        fast = await call(app, path, query, accept="image/webp,*/*")
        slow = await call(app.app, path, query, accept="image/webp,*/*")
        assert seen == [b"fast"]
        assert fast == slow
        assert fast[1][b"x-imgate-cache"] == b"memory" and fast[1][b"content-type"] == b"image/webp"
        assert fast[1][b"access-control-allow-origin"] == b"*"
        head = await call(app, path, query, method="HEAD", accept="image/webp,*/*")
        assert head[0] == 200 and head[2] == b"" and head[1] == fast[1]
        etag = fast[1][b"etag"].decode()
        assert await call(app, path, query, if_none_match=etag, accept="image/webp,*/*") == await call(
            app.app, path, query, if_none_match=etag, accept="image/webp,*/*"
        )
        # Another Accept is another key: not yet rendered, so the full path answers it.
        seen.clear()
        assert (await call(app, path, query, accept="image/avif"))[1][b"content-type"] == b"image/avif"
        assert seen == [b"slow"]


@pytest.mark.anyio
async def test_restricted_cors_always_takes_the_full_path(tmp_path: Path) -> None:
    async with running(tmp_path) as app:
        path, query = "/locked/photo-grey.jpg", b"w=50"
        await call(app, path, query)
        status, headers, _ = await call(app, path, query, origin="https://evil.example")
        assert status == 403
        status, headers, _ = await call(app, path, query)
        assert status == 200 and headers[b"x-imgate-cache"] == b"memory" and b"Origin" in headers[b"vary"]
