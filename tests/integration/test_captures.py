"""Captures through the gateway: the URL API, the capture domain gate, the pipeline, retention; pages that
fail to be the page; and, on a two-worker gateway, pages that try to reach the capture machinery and the
operator's deny lists changed while the gateway runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from gateway.capture.machinery import MachineryPorts
from gateway.sources.capture import MACHINERY_DIRECTORY
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import Canary, TestSite
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
    gw = GatewayProcess(
        tmp_path_factory.mktemp("capgw"),
        trusted_networks="127.0.0.1/32",
        capture_trusted_networks="127.0.0.1/32",
        capture_timeout="15",
    )
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


def test_a_page_that_navigates_itself_to_a_blocked_host_is_an_origin_error_never_cached(
    gateway: GatewayProcess, site: TestSite
) -> None:
    # The page loads, then sends itself to the metadata address; Chromium shows its "Access to ... was denied"
    # page, which must never be answered (and cached) as the capture.
    page = site.url("/leave.html?after=100&to=" + quote("http://169.254.169.254/latest/meta-data/", safe=""))
    for _ in range(2):
        response = capture(gateway, "shots", page, "&delay=1500&w=300&fm=png")
        assert (response.status_code, response.json()["error"]["code"]) == (502, "ORIGIN_ERROR"), response.text
        assert response.headers["cache-control"] == "no-store"
    stored = [p for p in (gateway.data_dir / "results").rglob("*") if p.is_file() and "leave" in str(p)]
    assert stored == []


def test_a_page_that_opens_windows_is_captured(gateway: GatewayProcess, site: TestSite) -> None:
    started = time.monotonic()
    response = capture(gateway, "shots", site.url("/popup.html?to=/popup-alert.html"), "&w=200&fm=png")
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 10  # the capture timeout is 15 s: a popup held nothing
    assert site.hits["/popup-alert.html"] == 0


# --- two workers -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("capconfig") / "gateway.toml"
    path.write_text("deny_networks = []\ndeny_hosts = []\n")
    return path


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, site: TestSite, config_file: Path
) -> Iterator[GatewayProcess]:
    """Two Granian workers that trust loopback for origins AND for captures: the worst case."""
    require_browser()
    port = site.origin.rsplit(":", 1)[1]
    gw = GatewayProcess(
        tmp_path_factory.mktemp("capgw2"),
        workers=2,
        config=str(config_file),
        trusted_networks="127.0.0.1/32",
        capture_trusted_networks="127.0.0.1/32",
        capture_timeout="20",
    )
    gw.add_workspace(
        Workspace(
            namespace="shots",
            allowed_capture_domains=(f"127.0.0.1:{port}",),
            allowed_sources=(f"127.0.0.1:{port}",),
        )
    )
    with gw:
        yield gw


def machinery(gw: GatewayProcess) -> dict[str, dict[str, int]]:
    return MachineryPorts(gw.data_dir / MACHINERY_DIRECTORY).entries()


def warm_both_workers(gw: GatewayProcess, site: TestSite) -> dict[str, dict[str, int]]:
    """Capture until both workers run a browser (which worker accepts a connection is the kernel's choice)."""
    numbers = iter(range(1_000))

    def one(_: int) -> None:
        # A new page each time: a cached capture is answered at once, by whichever worker took it first.
        capture(gw, "shots", site.url(f"/simple.html?warm={next(numbers)}"), "&w=50")

    with ThreadPoolExecutor(8) as threads:
        for _ in range(20):
            browsers = {name: ports for name, ports in machinery(gw).items() if "chromedriver" in ports}
            if len({name.split("-", 1)[0] for name in browsers}) >= 2:
                return machinery(gw)
            list(threads.map(one, range(8)))
    pytest.fail(f"the second worker never started a browser: {machinery(gw)}")


def sessions(driver_port: int) -> dict[str, str]:
    """Session id -> the URL its browser shows, asked of ChromeDriver directly (as no page may)."""
    listed = httpx.get(f"http://127.0.0.1:{driver_port}/sessions", timeout=10).json()["value"]
    return {
        item["id"]: httpx.get(f"http://127.0.0.1:{driver_port}/session/{item['id']}/url", timeout=10).json()["value"]
        for item in listed
    }


def devtools_tabs(devtools_port: int) -> list[str]:
    return [tab["url"] for tab in httpx.get(f"http://127.0.0.1:{devtools_port}/json/list", timeout=10).json()]


def test_no_page_reaches_any_workers_capture_machinery(two_workers: GatewayProcess, site: TestSite) -> None:
    entries = warm_both_workers(two_workers, site)
    drivers = [ports["chromedriver"] for ports in entries.values() if "chromedriver" in ports]
    devtools = [ports["devtools"] for ports in entries.values() if "devtools" in ports]
    proxies = [port for ports in entries.values() for label, port in ports.items() if label.startswith("proxy")]
    gateway_ports = {port for ports in entries.values() for label, port in ports.items() if label.startswith("gateway")}
    assert len(drivers) >= 2 and len(devtools) >= 2 and len(proxies) >= 4 and gateway_ports == {two_workers.port}
    # A canary on trusted loopback, registered as machinery (a third worker's driver, say): not one connection.
    canary = Canary("127.0.0.1")
    try:
        registry = MachineryPorts(two_workers.data_dir / MACHINERY_DIRECTORY)
        registry.register("test-canary", {"chromedriver": int(canary.address.rpartition(":")[2])})
        before = {port: sessions(port) for port in drivers}
        assert all(before.values())
        targets = [{"port": port, "sessions": list(before[port])} for port in drivers]
        targets += [{"port": port} for port in [*devtools, *proxies, two_workers.port, canary.port]]
        page = site.url(
            "/machinery.html?" + urlencode({"targets": json.dumps(targets), "pwned": site.url("/pwned"), "ns": "shots"})
        )
        assert len(page) < 2048, "the capture URL limit"
        response = capture(two_workers, "shots", page, "&wait=%23done&w=200&fm=png")
        assert response.status_code == 200, response.text
        # No driver navigated, no tab opened, no capture of the gateway by itself, no connection to the canary.
        assert site.hits["/pwned"] == 0
        assert canary.hits == 0
        after = {port: sessions(port) for port in drivers}
        assert {port: set(listed) for port, listed in after.items()} == {port: set(b) for port, b in before.items()}
        assert not any("pwned" in url for listed in after.values() for url in listed.values())
        assert not any("pwned" in url for port in devtools for url in devtools_tabs(port))
    finally:
        registry.unregister("test-canary")
        canary.close()
    log = two_workers.log_path.read_text(errors="replace")
    assert log.count("capture egress refused (capture machinery port)") >= len(targets)


def test_deny_lists_apply_to_sources_and_captures_without_a_restart(
    two_workers: GatewayProcess, site: TestSite, config_file: Path
) -> None:
    numbers = iter(range(10_000))

    def both() -> tuple[int, int]:
        # New URLs each time: deny lists govern connections, and a cached page or original makes none.
        n = next(numbers)
        shot = capture(two_workers, "shots", site.url(f"/simple.html?n={n}"), "&w=100")
        source = httpx.get(
            f"{two_workers.url}/shots/?src={quote(site.url(f'/img/blue.png?n={n}'), safe='')}&w=8", timeout=60
        )
        return shot.status_code, source.status_code

    def settles_at(expected: tuple[int, int], limit_s: float = 15.0) -> bool:
        # Each worker looks at the file at most once a second; a few answers in a row from either worker.
        end = time.monotonic() + limit_s
        streak = 0
        while time.monotonic() < end and streak < 4:
            streak = streak + 1 if both() == expected else 0
        return streak >= 4

    assert settles_at((200, 200))
    try:
        config_file.write_text('deny_networks = ["127.0.0.1/32"]\ndeny_hosts = []\n')
        assert settles_at((403, 403))
        refused = capture(two_workers, "shots", site.url("/simple.html"), "&w=100&v=denied")
        assert refused.json()["error"]["code"] == "BLOCKED_ADDRESS"
    finally:
        config_file.write_text("deny_networks = []\ndeny_hosts = []\n")
    assert settles_at((200, 200))
