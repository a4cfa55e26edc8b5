"""Captures through the gateway: the URL API, the capture domain gate, the pipeline, retention."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import TestSite
from tests.integration.servers import GatewayProcess

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    server = TestSite()
    yield server
    server.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, site: TestSite) -> Iterator[GatewayProcess]:
    require_browser()
    port = site.origin.rsplit(":", 1)[1]
    gw = GatewayProcess(tmp_path_factory.mktemp("capgw"), trusted_networks="127.0.0.1/32", capture_timeout="15")
    gw.add_workspace(Workspace(namespace="shots", allowed_capture_domains=(f"127.0.0.1:{port}",)))
    gw.add_workspace(
        Workspace(namespace="ephemeral", allowed_capture_domains=(f"127.0.0.1:{port}",), capture_retention=0)
    )
    gw.add_workspace(Workspace(namespace="nocapture"))
    with gw:
        yield gw


def capture(gw: GatewayProcess, namespace: str, url: str, query: str = "") -> httpx.Response:
    return httpx.get(f"{gw.url}/{namespace}/?capture={quote(url, safe='')}{query}", timeout=60)


def test_capture_is_resized_and_cached_like_an_image(gateway: GatewayProcess, site: TestSite) -> None:
    response = capture(gateway, "shots", site.url("/simple.html"), "&vw=1024&vh=640&w=512&fm=png")
    assert response.status_code == 200, response.text
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (512, 320)
    # The page's dark-blue header band is at the top.
    header = image.crop(0, 0, 512, 30)
    assert header.extract_band(2).avg() > header.extract_band(0).avg() + 40
    assert response.headers["cache-control"].startswith("public, max-age=86400")
    again = capture(gateway, "shots", site.url("/simple.html"), "&vw=1024&vh=640&w=512&fm=png")
    assert again.headers["x-imgate-cache"] == "memory" and again.content == response.content


def test_auto_format_and_dark_mode(gateway: GatewayProcess, site: TestSite) -> None:
    light = capture(gateway, "shots", site.url("/dark.html"), "&vw=400&vh=300&fm=png")
    dark = capture(gateway, "shots", site.url("/dark.html"), "&vw=400&vh=300&dark=1&fm=png")
    light_mean = pyvips.Image.new_from_buffer(light.content, "").avg()
    dark_mean = pyvips.Image.new_from_buffer(dark.content, "").avg()
    assert light_mean > 200 and dark_mean < 60
    webp = httpx.get(
        f"{gateway.url}/shots/?capture={quote(site.url('/simple.html'), safe='')}&w=300&auto=format",
        headers={"accept": "image/webp,*/*"},
        timeout=60,
    )
    assert webp.headers["content-type"] == "image/webp" and webp.headers["vary"] == "Accept"


def test_pdf(gateway: GatewayProcess, site: TestSite) -> None:
    response = capture(gateway, "shots", site.url("/simple.html"), "&fm=pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF") and response.headers["content-type"] == "application/pdf"
    refused = capture(gateway, "shots", site.url("/simple.html"), "&fm=pdf&w=300")
    assert refused.status_code == 400 and "PDF" in refused.json()["error"]["message"]


def test_retention_zero_keeps_nothing(gateway: GatewayProcess, site: TestSite) -> None:
    first = capture(gateway, "ephemeral", site.url("/simple.html"), "&w=200&fm=png")
    second = capture(gateway, "ephemeral", site.url("/simple.html"), "&w=200&fm=png")
    assert first.status_code == second.status_code == 200
    assert first.headers["x-imgate-cache"] == second.headers["x-imgate-cache"] == "miss"
    assert first.headers["cache-control"] == "no-store"
    stored = [p for p in (gateway.data_dir / "results" / "ephemeral").rglob("*") if p.is_file()]
    assert stored == []


@pytest.mark.parametrize(
    ("namespace", "url", "status", "code"),
    [
        ("nocapture", "SITE/simple.html", 403, "DOMAIN_NOT_ALLOWED"),  # empty list: nothing allowed
        ("shots", "http://127.0.0.1:9/simple.html", 403, "DOMAIN_NOT_ALLOWED"),  # another port
        ("shots", "https://example.com/", 403, "DOMAIN_NOT_ALLOWED"),
        ("shots", "file:///etc/passwd", 400, "VALIDATION_ERROR"),
        ("shots", "javascript:alert(1)", 400, "VALIDATION_ERROR"),
        ("shots", "data:text/html,<h1>x</h1>", 400, "VALIDATION_ERROR"),
        ("shots", "chrome://settings", 400, "VALIDATION_ERROR"),
        ("shots", "http://user:pw@127.0.0.1/", 400, "VALIDATION_ERROR"),
        # 127.0.0.1 spelled so that only a lenient parser reads it, and an overlong '..': refused, not captured.
        ("shots", "http://2130706433:PORT/simple.html", 400, "VALIDATION_ERROR"),
        ("shots", "http://0x7f.1:PORT/simple.html", 400, "VALIDATION_ERROR"),
        ("shots", "SITE/%c0%ae%c0%ae/simple.html", 400, "VALIDATION_ERROR"),
    ],
)
def test_capture_gates(
    gateway: GatewayProcess, site: TestSite, namespace: str, url: str, status: int, code: str
) -> None:
    port = site.origin.rsplit(":", 1)[1]
    response = capture(gateway, namespace, url.replace("SITE", site.origin).replace("PORT", port))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text


def test_capture_parameters_need_capture(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/shots/x.jpg?vw=800", timeout=30)
    assert response.status_code == 400 and "vw" in response.json()["error"]["message"]
