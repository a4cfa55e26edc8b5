"""Per-workspace CORS, as the request path's gate step answers it, through the whole app over ASGI."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.routes.fasthits import FastHits
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import RecordingHooks, Sent, call, running

SHOP = "https://shop.example.com"
BLOG = "https://blog.example.com"
EVIL = "https://evil.example.net"
IMAGE, QUERY = "/acme/photo-grey.jpg", b"w=40&auto=format"

pytestmark = pytest.mark.anyio


@pytest.fixture
def accounts() -> MemoryAccountStore:
    store = MemoryAccountStore()
    root = {"root": str(DEMO_IMAGES)}
    restricted = (SHOP, "https://*.example.com")
    store.create_workspace(Workspace(namespace="acme", origin_kind="local", origin=root, allowed_origins=restricted))
    store.create_workspace(Workspace(namespace="open", origin_kind="local", origin=root))
    return store


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
async def app(tmp_path: Path, accounts: MemoryAccountStore, hooks: RecordingHooks) -> AsyncIterator[FastHits]:
    async with running(tmp_path, accounts, hooks, tenancy_ttl="0.05") as gateway:
        yield gateway


def origin(value: str) -> list[tuple[str, str]]:
    return [("origin", value)]


def preflight(origin: str, method: str = "GET", headers: str | None = None) -> list[tuple[str, str]]:
    sent = [("origin", origin), ("access-control-request-method", method)]
    if headers is not None:
        sent.append(("access-control-request-headers", headers))
    return sent


def error(sent: Sent) -> dict[str, str]:
    body: dict[str, dict[str, str]] = json.loads(sent.body)
    return body["error"]


async def test_allowed_origins_get_the_same_bytes_and_their_own_headers(app: FastHits) -> None:
    plain = await call(app, IMAGE, QUERY)
    shop = await call(app, IMAGE, QUERY, headers=origin(SHOP))
    blog = await call(app, IMAGE, QUERY, headers=origin(BLOG))
    assert plain.status == shop.status == blog.status == 200
    assert plain.body == shop.body == blog.body
    assert plain.header("etag") == shop.header("etag") == blog.header("etag")
    assert shop.header("access-control-allow-origin") == SHOP
    assert blog.header("access-control-allow-origin") == BLOG
    assert "ETag" in (shop.header("access-control-expose-headers") or "")
    assert shop.header("access-control-allow-credentials") is None
    for response in (plain, shop, blog):
        assert response.vary() == ["Accept", "Origin"]  # one Vary: the output's own, then Origin, once


async def test_a_request_without_origin_passes_but_still_varies_on_it(app: FastHits) -> None:
    response = await call(app, IMAGE, b"w=40")
    assert response.status == 200
    assert response.header("access-control-allow-origin") is None
    assert response.vary() == ["Origin"]


async def test_a_disallowed_origin_is_refused_before_any_work(app: FastHits, hooks: RecordingHooks) -> None:
    for refused in (EVIL, "null", "https://example.com", "http://shop.example.com"):
        response = await call(app, IMAGE, QUERY, headers=origin(refused))
        assert response.status == 403
        assert error(response) == {"code": "ORIGIN_NOT_ALLOWED", "message": "origin not allowed for this workspace"}
        assert response.header("cache-control") == "no-store"
        assert response.vary() == ["Origin"]
        assert response.header("access-control-allow-origin") is None
    assert hooks.admitted == []  # refused at the gate, before the admission hook and the plan


async def test_a_refused_head_request_has_no_body(app: FastHits) -> None:
    response = await call(app, IMAGE, QUERY, method="HEAD", headers=origin(EVIL))
    assert response.status == 403 and response.body == b""
    assert int(response.header("content-length") or 0) > 0


async def test_two_origin_headers_are_refused(app: FastHits) -> None:
    response = await call(app, IMAGE, QUERY, headers=[("origin", SHOP), ("origin", EVIL)])
    assert response.status == 403


async def test_an_open_workspace_answers_every_caller_alike(app: FastHits) -> None:
    for headers in ([], origin(EVIL), origin("null")):
        response = await call(app, "/open/photo-grey.jpg", QUERY, headers=headers)
        assert response.status == 200
        assert response.header("access-control-allow-origin") == "*"
        assert response.vary() == ["Accept"]  # no Vary: Origin, so a CDN keeps one copy


async def test_errors_carry_the_cors_headers_the_workspace_would_get(app: FastHits) -> None:
    for query, status, code in ((b"w=40", 404, "NOT_FOUND"), (b"w=abc", 400, "VALIDATION_ERROR")):
        path = "/acme/missing.jpg" if status == 404 else IMAGE
        response = await call(app, path, query, headers=origin(SHOP))
        assert (response.status, error(response)["code"]) == (status, code)
        assert response.header("access-control-allow-origin") == SHOP
        assert response.header("cache-control") == "no-store"
        assert "Origin" in response.vary()
    opened = await call(app, "/open/missing.jpg", b"", headers=origin(EVIL))
    assert opened.status == 404 and opened.header("access-control-allow-origin") == "*"


async def test_every_kind_of_answer_gets_the_headers(app: FastHits) -> None:
    first = await call(app, IMAGE, QUERY, headers=origin(SHOP))
    etag = first.header("etag") or ""
    answers = [
        await call(app, IMAGE, QUERY, headers=[*origin(SHOP), ("if-none-match", etag)]),  # 304
        await call(app, IMAGE, QUERY, method="HEAD", headers=origin(SHOP)),
        await call(app, "/acme", b"", headers=origin(SHOP)),  # no key: 404
        await call(app, IMAGE, QUERY, method="POST", headers=origin(SHOP)),  # 405
    ]
    assert [answer.status for answer in answers] == [304, 200, 404, 405]
    for answer in answers:
        assert answer.header("access-control-allow-origin") == SHOP and "Origin" in answer.vary()
    assert answers[-1].header("allow") == "GET, HEAD, OPTIONS"
    assert error(answers[-1])["code"] == "METHOD_NOT_ALLOWED"


async def test_an_allowed_preflight(app: FastHits, hooks: RecordingHooks) -> None:
    response = await call(app, IMAGE, method="OPTIONS", headers=preflight(SHOP, "GET", "X-Requested-With, Accept"))
    assert response.status == 204
    assert response.header("access-control-allow-origin") == SHOP
    assert response.header("access-control-allow-methods") == "GET, HEAD"
    assert response.header("access-control-allow-headers") == "x-requested-with, accept"
    assert response.header("access-control-max-age") == "86400"
    assert {"Origin", "Access-Control-Request-Headers"} <= set(response.vary())
    assert hooks.admitted == []


async def test_a_preflight_without_requested_headers_allows_none(app: FastHits) -> None:
    response = await call(app, IMAGE, method="OPTIONS", headers=preflight(SHOP, "HEAD"))
    assert response.status == 204
    assert response.header("access-control-allow-headers") is None


async def test_a_preflight_on_an_open_workspace(app: FastHits) -> None:
    response = await call(app, "/open/photo-grey.jpg", method="OPTIONS", headers=preflight(EVIL, "GET", "range"))
    assert response.status == 204
    assert response.header("access-control-allow-origin") == "*"
    assert response.header("access-control-allow-headers") == "range"
    assert "Origin" not in response.vary()


async def test_a_preflight_from_a_disallowed_origin(app: FastHits) -> None:
    response = await call(app, IMAGE, method="OPTIONS", headers=preflight(EVIL))
    assert response.status == 403
    assert error(response)["code"] == "ORIGIN_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("method", "requested"),
    [
        ("POST", None),
        ("DELETE", None),
        ("get", None),
        ("GET", ", ".join(f"x-h{i}" for i in range(21))),
        ("GET", "x-ok, bad header"),
        ("GET", "x-ok, bad:header"),
        ("GET", "x-" + "a" * 63),
    ],
)
async def test_unreasonable_preflights_fail(app: FastHits, method: str, requested: str | None) -> None:
    response = await call(app, IMAGE, method="OPTIONS", headers=preflight(SHOP, method, requested))
    assert response.status == 400
    assert error(response)["code"] == "VALIDATION_ERROR"
    assert response.header("cache-control") == "no-store"
    assert response.header("access-control-allow-origin") == SHOP


async def test_twenty_plain_headers_are_within_reason(app: FastHits) -> None:
    requested = ", ".join(f"x-h{i}" for i in range(20))
    response = await call(app, IMAGE, method="OPTIONS", headers=preflight(SHOP, "GET", requested))
    assert response.status == 204
    assert response.header("access-control-allow-headers") == requested


async def test_options_without_a_request_method_is_not_a_preflight(app: FastHits) -> None:
    response = await call(app, IMAGE, method="OPTIONS", headers=origin(SHOP))
    assert response.status == 405 and error(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.header("access-control-allow-origin") == SHOP


async def test_paths_outside_workspaces_are_untouched(app: FastHits) -> None:
    for path in ("/_/health", "/_/nothing"):
        response = await call(app, path, headers=origin(EVIL))
        assert response.status in (200, 404)
        assert response.header("access-control-allow-origin") is None and response.header("vary") is None


@pytest.mark.parametrize("path", ["/nobody/shoe.jpg", "/Not_A_Namespace/shoe.jpg", "/nobody", "/"])
async def test_no_workspace_is_a_404_any_page_can_read(app: FastHits, path: str) -> None:
    # Before, this 404 carried no CORS headers at all, while the CORS layer's docstring said otherwise.
    for method, headers in (("GET", origin(SHOP)), ("OPTIONS", preflight(SHOP))):
        response = await call(app, path, method=method, headers=headers)
        assert response.status == 404
        assert error(response) == {"code": "NOT_FOUND", "message": "unknown workspace"}
        assert response.header("cache-control") == "no-store"
        assert response.header("access-control-allow-origin") == "*"
        assert response.vary() == []  # the same for every caller


async def test_a_changed_policy_applies_to_the_next_request(app: FastHits, accounts: MemoryAccountStore) -> None:
    assert (await call(app, IMAGE, QUERY, headers=origin(EVIL))).status == 403
    current = accounts.get_workspace("acme")
    assert current is not None
    accounts.update_workspace(dataclasses.replace(current, allowed_origins=(EVIL,)))
    await asyncio.sleep(0.06)  # the tenancy TTL
    allowed = await call(app, IMAGE, QUERY, headers=origin(EVIL))
    assert allowed.status == 200 and allowed.header("access-control-allow-origin") == EVIL
    assert (await call(app, IMAGE, QUERY, headers=origin(SHOP))).status == 403
