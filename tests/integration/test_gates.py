"""Workspace gates end to end: CORS allowlists and allowed external sources for ``?src=``."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from tests.integration.servers import GatewayProcess, imgate
from tests.support.origin_server import OriginServer

pytestmark = pytest.mark.integration

SHOP = "https://shop.example.com"


@pytest.fixture(scope="module")
def origin(images_dir: Path) -> Iterator[OriginServer]:
    with OriginServer() as server:
        server.file("/img/kite.jpg", (images_dir / "photo-kite.jpg").read_bytes(), "image/jpeg")
        server.file("/other/kite.jpg", (images_dir / "photo-kite.jpg").read_bytes(), "image/jpeg")
        server.redirect("/img/sneaky.jpg", "http://127.0.0.2:9/secret")
        server.redirect("/img/metadata.jpg", "http://169.254.169.254/latest/meta-data/")
        yield server


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, origin: OriginServer, images_dir: Path
) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(tmp_path_factory.mktemp("gates"), trusted_networks="127.0.0.1/32")
    allowed_source = f"127.0.0.1:{origin.port}/img/"
    gw.add_workspace(
        Workspace(
            namespace="locked",
            origin_kind="local",
            origin={"root": str(images_dir)},
            allowed_origins=(SHOP, "https://*.brand.example"),
            allowed_sources=(allowed_source,),
        )
    )
    gw.add_workspace(Workspace(namespace="open", origin_kind="local", origin={"root": str(images_dir)}))
    with gw:
        yield gw


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=20)


def test_no_origin_header_passes_and_varies_on_origin(gateway: GatewayProcess) -> None:
    response = get(f"{gateway.url}/locked/photo-kite.jpg?w=40")
    assert response.status_code == 200
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin_header", [SHOP, "https://a.b.brand.example"])
def test_allowed_origin_is_echoed(gateway: GatewayProcess, origin_header: str) -> None:
    response = get(f"{gateway.url}/locked/photo-kite.jpg?w=40", origin=origin_header)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin_header
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin_header",
    ["https://evil.example", "http://shop.example.com", "https://shop.example.com:8443", "https://brand.example"],
)
def test_disallowed_origin_is_403(gateway: GatewayProcess, origin_header: str) -> None:
    response = get(f"{gateway.url}/locked/photo-kite.jpg?w=40", origin=origin_header)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert response.headers["cache-control"] == "no-store"
    assert "Origin" in response.headers["vary"]


def test_preflight(gateway: GatewayProcess) -> None:
    response = httpx.options(
        f"{gateway.url}/locked/photo-kite.jpg",
        headers={"origin": SHOP, "access-control-request-method": "GET", "access-control-request-headers": "x-trace"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "GET" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"].lower() == "x-trace"
    assert int(response.headers["access-control-max-age"]) > 0
    refused = httpx.options(
        f"{gateway.url}/locked/photo-kite.jpg",
        headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
    )
    assert refused.status_code == 403


def test_errors_carry_cors_headers_and_outputs_are_shared_across_origins(gateway: GatewayProcess) -> None:
    error = get(f"{gateway.url}/locked/photo-kite.jpg?w=abc", origin=SHOP)
    assert error.status_code == 400 and error.headers["access-control-allow-origin"] == SHOP
    a = get(f"{gateway.url}/locked/photo-path.jpg?w=41", origin=SHOP)
    b = get(f"{gateway.url}/locked/photo-path.jpg?w=41", origin="https://x.brand.example")
    assert a.content == b.content and b.headers["x-imgate-cache"] == "memory"


def test_no_workspace_is_a_404_any_page_can_read(gateway: GatewayProcess) -> None:
    for path in ("/nobody/photo-kite.jpg", "/Not_A_Namespace/x.jpg"):
        response = get(f"{gateway.url}{path}", origin=SHOP)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
        assert response.headers["access-control-allow-origin"] == "*"
        assert "vary" not in response.headers


def test_other_methods_are_refused_with_the_workspace_headers(gateway: GatewayProcess) -> None:
    response = httpx.post(f"{gateway.url}/locked/photo-kite.jpg", headers={"origin": SHOP}, timeout=20)
    assert response.status_code == 405 and response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.headers["access-control-allow-origin"] == SHOP and "Origin" in response.headers["vary"]


def test_permissive_workspace_allows_any_origin_without_vary(gateway: GatewayProcess) -> None:
    response = get(f"{gateway.url}/open/photo-kite.jpg?w=40", origin="https://anyone.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Origin" not in response.headers.get("vary", "")


def src(gateway: GatewayProcess, url: str, namespace: str = "locked") -> httpx.Response:
    return get(f"{gateway.url}/{namespace}/?src={quote(url, safe='')}&w=50&fm=png")


def test_allowed_external_source(gateway: GatewayProcess, origin: OriginServer) -> None:
    response = src(gateway, origin.url("/img/kite.jpg"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("make_url", "status", "code"),
    [
        (lambda o: o.url("/other/kite.jpg"), 403, "SOURCE_NOT_ALLOWED"),  # outside the path prefix
        (lambda o: o.url("/img-evil/kite.jpg"), 403, "SOURCE_NOT_ALLOWED"),
        (lambda o: "https://evil.example/img/kite.jpg", 403, "SOURCE_NOT_ALLOWED"),
        (lambda o: f"http://u@127.0.0.1:{o.port}/img/kite.jpg", 400, "VALIDATION_ERROR"),  # userinfo
        (lambda o: f"http://127.0.0.1:{o.port}@evil.example/img/kite.jpg", 400, "VALIDATION_ERROR"),
        (lambda o: f"http://127.0.0.1:{o.port}/img/%2e%2e/other/kite.jpg", 400, "VALIDATION_ERROR"),
        (lambda o: f"http://127.0.0.1:{o.port}/img/..\\other/kite.jpg", 400, "VALIDATION_ERROR"),
        (lambda o: f"http://[::1]:{o.port}/img/kite.jpg", 400, "VALIDATION_ERROR"),  # IPv6 literal
        (lambda o: f"http://2130706433:{o.port}/img/kite.jpg", 400, "VALIDATION_ERROR"),  # decimal IP
        (lambda o: "file:///etc/passwd", 400, "VALIDATION_ERROR"),
        (lambda o: o.url("/img/sneaky.jpg"), 403, "BLOCKED_ADDRESS"),  # allowed host redirects inward
        (lambda o: o.url("/img/metadata.jpg"), 403, "BLOCKED_ADDRESS"),
    ],
)
def test_external_source_refusals(
    gateway: GatewayProcess, origin: OriginServer, make_url, status: int, code: str
) -> None:
    response = src(gateway, make_url(origin))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert "127.0.0.2" not in response.text and "169.254" not in response.text


def test_star_never_allows_internal_addresses(gateway: GatewayProcess, origin: OriginServer) -> None:
    # "open" allows every source; an IP literal is still not a host name, and the guard checks addresses.
    response = src(gateway, f"http://127.0.0.2:{origin.port}/img/kite.jpg", namespace="open")
    assert response.status_code == 403


def test_src_entries_are_per_workspace(gateway: GatewayProcess, origin: OriginServer) -> None:
    # Allow the same source on "open" with its exact address, then ask both: each renders its own entry.
    url = origin.url("/img/kite.jpg")
    first = src(gateway, url)
    assert first.status_code == 200
    before = origin.hits("/img/kite.jpg")
    again = src(gateway, url)
    assert again.headers["x-imgate-cache"] == "memory" and origin.hits("/img/kite.jpg") == before


def test_cli_changes_apply_within_the_ttl(gateway: GatewayProcess) -> None:
    newcomer = "https://newcomer.example"
    assert get(f"{gateway.url}/locked/photo-kite.jpg?w=40", origin=newcomer).status_code == 403
    result = imgate(gateway.data_dir, "workspace", "update", "locked", "--allowed-origins", f"{SHOP},{newcomer}")
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 5
    while get(f"{gateway.url}/locked/photo-kite.jpg?w=40", origin=newcomer).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    bad = imgate(gateway.data_dir, "workspace", "update", "locked", "--allowed-sources", "*.com")
    assert bad.returncode != 0 and "*.com" in bad.stderr
    store = SqliteAccountStore(gateway.data_dir / "imgate.sqlite3")
    try:
        current = store.get_workspace("locked")
        assert current is not None and "*.com" not in current.allowed_sources
        store.update_workspace(dataclasses.replace(current, allowed_origins=(SHOP, "https://*.brand.example")))
    finally:
        store.close()
