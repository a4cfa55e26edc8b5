"""gateway.web.cors.CORSMiddleware in front of a real Starlette app, driven over ASGI by httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Scope

from gateway.errors import GatewayError, NotFound
from gateway.policy import WorkspacePolicy
from gateway.web.cors import CORSMiddleware

Client = httpx.AsyncClient
SHOP = "https://shop.example.com"
BLOG = "https://blog.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Gateway:
    """A stand-in for the image routes: same bytes for every caller, its own Vary, errors as JSON."""

    def __init__(self) -> None:
        self.policies: dict[str, WorkspacePolicy] = {
            "acme": WorkspacePolicy.compile([SHOP, "https://*.example.com"], ["*"], []),
            "open": WorkspacePolicy.compile(["*"], ["*"], []),
        }
        self.calls = 0

    async def policy_for(self, scope: Scope) -> WorkspacePolicy | None:
        namespace = scope["path"].split("/")[1]
        if namespace == "_":
            return None
        if namespace not in self.policies:
            raise NotFound("no such workspace")
        return self.policies[namespace]

    async def image(self, request: Request) -> Response:
        self.calls += 1
        if request.path_params["key"] == "missing.jpg":
            raise NotFound("no such image")
        headers = {"ETag": '"v1"', "Vary": "Accept", "Cache-Control": "public, max-age=60"}
        return Response(b"\xff\xd8 the same bytes for everyone", media_type="image/jpeg", headers=headers)

    async def stream(self, request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"one "
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    async def health(self, request: Request) -> Response:
        return Response(b"ok")

    def app(self) -> Starlette:
        async def on_gateway_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, GatewayError)
            return JSONResponse(exc.body(), status_code=exc.status, headers={"Cache-Control": "no-store"})

        return Starlette(
            routes=[
                Route("/_/health", self.health),
                Route("/{ns}/stream", self.stream),
                Route("/{ns}/{key:path}", self.image, methods=["GET", "HEAD"]),
            ],
            middleware=[Middleware(CORSMiddleware, policy_for=self.policy_for)],
            exception_handlers={GatewayError: on_gateway_error},
        )


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://img.test") as http:
        yield http


def vary(response: httpx.Response) -> list[str]:
    return [token.strip() for token in response.headers.get("vary", "").split(",") if token.strip()]


def preflight(origin: str, method: str = "GET", headers: str | None = None) -> dict[str, str]:
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return sent


pytestmark = pytest.mark.anyio


async def test_allowed_origins_get_the_same_bytes_and_their_own_headers(client: Client) -> None:
    plain = await client.get("/acme/shoe.jpg")
    shop = await client.get("/acme/shoe.jpg", headers={"Origin": SHOP})
    blog = await client.get("/acme/shoe.jpg", headers={"Origin": BLOG})
    assert plain.status_code == shop.status_code == blog.status_code == 200
    assert plain.content == shop.content == blog.content
    assert plain.headers["etag"] == shop.headers["etag"] == blog.headers["etag"]
    assert shop.headers["access-control-allow-origin"] == SHOP
    assert blog.headers["access-control-allow-origin"] == BLOG
    assert "ETag" in shop.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in shop.headers
    for response in (plain, shop, blog):
        assert vary(response) == ["Accept", "Origin"]  # appended to the app's own Vary, once


async def test_a_request_without_origin_passes_but_still_varies_on_it(client: Client) -> None:
    response = await client.get("/acme/shoe.jpg")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "Origin" in vary(response)


async def test_a_disallowed_origin_is_refused_before_the_app_runs(client: Client, gateway: Gateway) -> None:
    for origin in (EVIL, "null", "https://example.com", "http://shop.example.com"):
        response = await client.get("/acme/shoe.jpg", headers={"Origin": origin})
        assert response.status_code == 403
        assert response.json()["error"] == {
            "code": "ORIGIN_NOT_ALLOWED",
            "message": "origin not allowed for this workspace",
        }
        assert response.headers["cache-control"] == "no-store"
        assert vary(response) == ["Origin"]
        assert "access-control-allow-origin" not in response.headers
    assert gateway.calls == 0


async def test_a_refused_head_request_has_no_body(client: Client) -> None:
    response = await client.head("/acme/shoe.jpg", headers={"Origin": EVIL})
    assert response.status_code == 403 and response.content == b""
    assert int(response.headers["content-length"]) > 0


async def test_two_origin_headers_are_refused(client: Client) -> None:
    response = await client.get("/acme/shoe.jpg", headers=[("Origin", SHOP), ("Origin", EVIL)])
    assert response.status_code == 403


async def test_an_open_workspace_answers_every_caller_alike(client: Client) -> None:
    for headers in ({}, {"Origin": EVIL}, {"Origin": "null"}):
        response = await client.get("/open/shoe.jpg", headers=headers)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert vary(response) == ["Accept"]  # no Vary: Origin, so a CDN keeps one copy


async def test_errors_from_the_app_carry_the_cors_headers(client: Client) -> None:
    response = await client.get("/acme/missing.jpg", headers={"Origin": SHOP})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert response.headers["access-control-allow-origin"] == SHOP
    assert response.headers["cache-control"] == "no-store"
    assert "Origin" in vary(response)


async def test_streamed_responses_get_the_headers_too(client: Client) -> None:
    response = await client.get("/acme/stream", headers={"Origin": SHOP})
    assert response.text == "one two"
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_an_allowed_preflight(client: Client, gateway: Gateway) -> None:
    asked = preflight(SHOP, "GET", "X-Requested-With, Accept")
    response = await client.options("/acme/shoe.jpg", headers=asked)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SHOP
    assert response.headers["access-control-allow-methods"] == "GET, HEAD"
    assert response.headers["access-control-allow-headers"] == "x-requested-with, accept"
    assert response.headers["access-control-max-age"] == "86400"
    assert {"Origin", "Access-Control-Request-Headers"} <= set(vary(response))
    assert gateway.calls == 0


async def test_a_preflight_without_requested_headers_allows_none(client: Client) -> None:
    response = await client.options("/acme/shoe.jpg", headers=preflight(SHOP, "HEAD"))
    assert response.status_code == 204
    assert "access-control-allow-headers" not in response.headers


async def test_a_preflight_on_an_open_workspace(client: Client) -> None:
    response = await client.options("/open/shoe.jpg", headers=preflight(EVIL, "GET", "range"))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-headers"] == "range"
    assert "Origin" not in vary(response)


async def test_a_preflight_from_a_disallowed_origin(client: Client) -> None:
    response = await client.options("/acme/shoe.jpg", headers=preflight(EVIL))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"


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
async def test_unreasonable_preflights_fail(client: Client, method: str, requested: str | None) -> None:
    response = await client.options("/acme/shoe.jpg", headers=preflight(SHOP, method, requested))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_twenty_plain_headers_are_within_reason(client: Client) -> None:
    requested = ", ".join(f"x-h{i}" for i in range(20))
    response = await client.options("/acme/shoe.jpg", headers=preflight(SHOP, "GET", requested))
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"] == requested


async def test_options_without_a_request_method_is_not_a_preflight(client: Client, gateway: Gateway) -> None:
    response = await client.options("/acme/shoe.jpg", headers={"Origin": SHOP})
    assert response.status_code == 405  # the app answered
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_paths_outside_workspaces_are_untouched(client: Client) -> None:
    response = await client.get("/_/health", headers={"Origin": EVIL})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers and "vary" not in response.headers


async def test_a_failed_workspace_lookup_is_answered_as_its_error(client: Client) -> None:
    response = await client.get("/nobody/shoe.jpg", headers={"Origin": SHOP})
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "no such workspace"}}
    assert response.headers["cache-control"] == "no-store"


async def test_a_changed_policy_applies_to_the_next_request(client: Client, gateway: Gateway) -> None:
    assert (await client.get("/acme/shoe.jpg", headers={"Origin": EVIL})).status_code == 403
    gateway.policies["acme"] = WorkspacePolicy.compile([EVIL], ["*"], [])
    allowed = await client.get("/acme/shoe.jpg", headers={"Origin": EVIL})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == EVIL
    assert (await client.get("/acme/shoe.jpg", headers={"Origin": SHOP})).status_code == 403
