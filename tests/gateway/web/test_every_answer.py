"""Every answer of the whole app, whatever the method or target, is the JSON error shape: never Starlette's
plain text, never a redirect. (Over raw sockets to a real server: tests/integration/test_raw_http.py.)"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.battery import BY_PATH, METHODS, ODD_TARGETS, Expected
from tests.gateway.web.running import Sent, call, running

pytestmark = pytest.mark.anyio


def store() -> MemoryAccountStore:
    accounts = MemoryAccountStore()
    accounts.create_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(DEMO_IMAGES)}))
    return accounts


def assert_answer(sent: Sent, expected: Expected, what: str) -> None:
    assert sent.status == expected.status, (what, sent.status, sent.body)
    assert sent.header("content-type") == "application/json", what
    assert sent.header("cache-control") == "no-store", what
    assert sent.header("location") is None, what
    assert sent.header("allow") == expected.allow, what
    if what.startswith("HEAD "):
        assert sent.body == b"" and int(sent.header("content-length") or 0) > 0, what
        return
    assert json.loads(sent.body)["error"]["code"] == expected.code, what
    assert int(sent.header("content-length") or -1) == len(sent.body), what


async def send(app: Any, method: str, target: str, headers: list[tuple[str, str]] | None = None) -> Sent:
    path, _, query = target.partition("?")
    return await call(app, unquote(path), query.encode(), method, headers)


async def test_every_method_on_every_path(tmp_path: Path) -> None:
    async with running(tmp_path, store()) as app:
        for path, expected in BY_PATH.items():
            for method in METHODS:
                assert_answer(await send(app, method, path), expected, f"{method} {path}")


async def test_options_with_an_origin_but_no_requested_method_is_not_a_preflight(tmp_path: Path) -> None:
    async with running(tmp_path, store()) as app:
        sent = await send(app, "OPTIONS", "/demo/photo-kite.jpg", [("origin", "https://a.example")])
        assert_answer(sent, BY_PATH["/demo/photo-kite.jpg"], "OPTIONS with Origin")
        assert sent.header("access-control-allow-origin") == "*"  # a page can read why


async def test_targets_that_are_no_image_path(tmp_path: Path) -> None:
    async with running(tmp_path, store()) as app:
        for (method, target), expected in ODD_TARGETS.items():
            assert_answer(await send(app, method, target), expected, f"{method} {target}")
        # What Granian hands over for a CONNECT with no path at all.
        assert_answer(await send(app, "CONNECT", ""), Expected(400, "VALIDATION_ERROR"), "CONNECT, empty path")


async def test_the_allowed_methods_still_answer(tmp_path: Path) -> None:
    async with running(tmp_path, store()) as app:
        assert (await send(app, "GET", "/demo/photo-kite.jpg?w=20")).status == 200
        assert (await send(app, "HEAD", "/demo/photo-kite.jpg?w=20")).status == 200
        assert (await send(app, "GET", "/_/health")).status == 200
        assert (await send(app, "HEAD", "/_/health")).status == 200  # the server leaves the body out
        preflight = [("origin", "https://a.example"), ("access-control-request-method", "GET")]
        assert (await send(app, "OPTIONS", "/demo/photo-kite.jpg", preflight)).status == 204


async def test_a_websocket_is_refused_before_it_is_accepted(tmp_path: Path) -> None:
    async with running(tmp_path, store()) as app:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def record(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        scope = {"type": "websocket", "path": "/demo/photo-kite.jpg", "headers": [], "query_string": b""}
        await app({**scope, "asgi": {"version": "3.0"}, "state": {}}, receive, record)
        assert [message["type"] for message in sent] == ["websocket.close"]


async def test_a_framework_http_exception_is_answered_in_the_json_shape(tmp_path: Path) -> None:
    async def refuses(request: Request) -> Response:
        raise HTTPException(int(request.query_params["status"]), detail="framework text", headers={"X-Why": "1"})

    async with running(tmp_path, store()) as app:
        # A route that lets Starlette refuse (as a route declared with methods= does), placed first.
        starlette = app.app
        assert isinstance(starlette, Starlette)
        starlette.router.routes.insert(0, Route("/raises", refuses, methods=["GET"]))
        cases = {"404": "NOT_FOUND", "400": "VALIDATION_ERROR", "413": "PAYLOAD_TOO_LARGE", "418": "INTERNAL"}
        for status, code in cases.items():
            sent = await send(app, "GET", f"/raises?status={status}")
            assert json.loads(sent.body)["error"]["code"] == code
            assert b"framework text" not in sent.body and sent.header("cache-control") == "no-store"
        sent = await send(app, "POST", "/raises")
        assert sent.status == 405 and sent.header("allow") == "GET, HEAD"
        assert json.loads(sent.body)["error"] == {"code": "METHOD_NOT_ALLOWED", "message": "allowed here: GET, HEAD"}
