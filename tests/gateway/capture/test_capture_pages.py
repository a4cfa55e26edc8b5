"""Captures of the local test site through a real Chromium: every option, isolation, and SSRF from
inside the page. One service (one browser, so consecutive captures share it) serves the module."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
import pyvips

from gateway.capture import CaptureOptions, CaptureService, CaptureSettings, parse_capture_options
from gateway.capture.browser import Browser
from gateway.capture.machinery import MachineryPorts
from gateway.errors import BlockedAddress, OriginError, ValidationError
from gateway.netguard import NetGuard
from tests.gateway.capture.conftest import require_browser, tagged_live_processes
from tests.gateway.capture.testsite import Canary, TestSite, eventually

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.anyio]

FULL_HEIGHT_CAP = 4000
CAPTURE_TIMEOUT = 20


@pytest.fixture(scope="module")
async def service(site: TestSite) -> AsyncIterator[CaptureService]:
    require_browser()
    settings = CaptureSettings(pool_size=1, max_concurrency=1, timeout=CAPTURE_TIMEOUT, max_full_height=FULL_HEIGHT_CAP)
    capture = CaptureService(settings, NetGuard(["127.0.0.1/32"]))
    await capture.start()
    yield capture
    await capture.aclose()


async def shoot(service: CaptureService, url: str, **params: str) -> pyvips.Image:
    png = await service.capture(url, parse_capture_options(params.items()))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return pyvips.Image.new_from_buffer(png, "")


def rgb(image: pyvips.Image, x: int, y: int) -> tuple[int, int, int]:
    red, green, blue = image.getpoint(x, y)[:3]
    return int(red), int(green), int(blue)


def region(image: pyvips.Image, x: int, y: int, width: int, height: int) -> pyvips.Image:
    return image.crop(x, y, width, height).extract_band(0, n=3)


async def test_viewport_and_device_scale(service: CaptureService, site: TestSite) -> None:
    default = await shoot(service, site.url("/simple.html"))
    assert (default.width, default.height) == (1280, 800)
    scaled = await shoot(service, site.url("/simple.html"), vw="800", vh="600", cdpr="2")
    assert (scaled.width, scaled.height) == (1600, 1200)
    # The header is 80 CSS px tall: 160 device px at cdpr=2.
    assert rgb(scaled, 10, 150) == (0, 0x33, 0x66)
    assert rgb(scaled, 10, 170) == (255, 255, 255)


async def test_full_page_is_as_tall_as_the_page_with_lazy_content_loaded(
    service: CaptureService, site: TestSite
) -> None:
    image = await shoot(service, site.url("/tall.html"), full="1")
    assert (image.width, image.height) == (1280, 3000)
    assert rgb(image, 10, 50) == (255, 0, 0)
    assert rgb(image, 100, 2500) == (0, 0, 255)  # the native lazy image, far below the first viewport
    assert rgb(image, 100, 2700) == (0, 255, 0)  # the IntersectionObserver saw its element
    assert site.hits["/img/blue.png"] >= 1


async def test_full_page_height_is_capped(service: CaptureService, site: TestSite) -> None:
    image = await shoot(service, site.url("/tall.html?extra=5000"), full="1")
    assert (image.width, image.height) == (1280, FULL_HEIGHT_CAP)


async def test_hide_removes_elements(service: CaptureService, site: TestSite) -> None:
    shown = await shoot(service, site.url("/banner.html"))
    assert rgb(shown, 10, 800 - 60) == (255, 0, 255)
    hidden = await shoot(service, site.url("/banner.html"), hide="#cookie-banner, .absent")
    assert rgb(hidden, 10, 800 - 60) == (255, 255, 255)


async def test_redacted_boxes_are_black_in_the_pixels(service: CaptureService, site: TestSite) -> None:
    plain = await shoot(service, site.url("/secret.html"))
    assert region(plain, 100, 100, 300, 80).avg() > 100  # yellow box, blue text
    redacted = await shoot(service, site.url("/secret.html"), redact="#secret,#overflowing")
    secret = region(redacted, 100, 100, 300, 80)
    assert secret.max() == 0 and secret.deviate() == 0
    # The second element's text overflows its 20 px box far to the right; that is covered too.
    assert region(plain, 520, 100, 200, 40).max() == 255
    assert region(redacted, 520, 100, 200, 40).max() == 0
    assert rgb(redacted, 50, 50) == (255, 255, 255)  # and nothing else is touched
    assert rgb(redacted, 100, 300) == (255, 255, 255)


async def test_redaction_follows_scale_and_full_page(service: CaptureService, site: TestSite) -> None:
    image = await shoot(service, site.url("/secret.html?top=1500"), full="1", cdpr="2", redact="#secret")
    assert (image.width, image.height) == (2560, 4000)
    secret = region(image, 200, 3000, 600, 160)
    assert secret.max() == 0
    assert rgb(image, 190, 3080) == (255, 255, 255)
    assert rgb(image, 500, 3170) == (255, 255, 255)


async def test_dark_mode_changes_the_colour_scheme(service: CaptureService, site: TestSite) -> None:
    light = await shoot(service, site.url("/dark.html"))
    dark = await shoot(service, site.url("/dark.html"), dark="1")
    assert rgb(light, 5, 5) == (255, 255, 255)
    assert rgb(dark, 5, 5) == (0, 0, 0)


async def test_dialogs_are_dismissed(service: CaptureService, site: TestSite) -> None:
    image = await shoot(service, site.url("/alert.html"))
    assert rgb(image, 5, 5) == (0, 255, 0)


async def test_wait_for_a_selector(service: CaptureService, site: TestSite) -> None:
    image = await shoot(service, site.url("/late.html"), wait="#late")
    assert rgb(image, 5, 5) == (0, 0, 255)


async def test_element_capture(service: CaptureService, site: TestSite) -> None:
    image = await shoot(service, site.url("/secret.html"), el="#secret")
    assert (image.width, image.height) == (300, 80)
    assert rgb(image, 2, 2) == (255, 255, 0)
    with pytest.raises(ValidationError, match="el"):
        await shoot(service, site.url("/secret.html"), el="#nothing-like-this")


async def test_pdf(service: CaptureService, site: TestSite) -> None:
    pdf = await service.capture(site.url("/dark.html"), CaptureOptions(), pdf=True)
    assert pdf.startswith(b"%PDF-")
    with pytest.raises(ValidationError, match="redact"):
        await service.capture(site.url("/dark.html"), CaptureOptions(redact=("p",)), pdf=True)


async def test_selectors_the_browser_cannot_parse_are_refused(service: CaptureService, site: TestSite) -> None:
    # Past the check at parse time (CaptureOptions built directly): the browser's own parser still refuses.
    with pytest.raises(ValidationError, match="hide"):
        await service.capture(site.url("/simple.html"), CaptureOptions(hide=("h1:not-a-pseudo-class(",)))


STATE_KINDS = ("cookie", "http-cookie", "localStorage", "indexedDB", "serviceWorker", "cacheStorage")


def state_cells(image: pyvips.Image) -> dict[str, tuple[int, int, int]]:
    """The colour of each state kind's cell in state.js's display (red: found, green: not)."""
    return {kind: rgb(image, 25 + 50 * index, 25) for index, kind in enumerate(STATE_KINDS)}


async def test_no_state_survives_from_one_capture_to_the_next(service: CaptureService, site: TestSite) -> None:
    cached_before = site.hits["/cached.png"]
    # In the capture that writes it, every kind of state is there, and the HTTP cache works: the page
    # loads /cached.png twice, the server sees it once.
    written = await shoot(service, site.url("/set-state.html"), wait="#done")
    assert state_cells(written) == dict.fromkeys(STATE_KINDS, (255, 0, 0))
    assert site.hits["/cached.png"] == cached_before + 1
    # The next capture, in the same browser (the pool has one), finds none of it and fetches
    # /cached.png again.
    read = await shoot(service, site.url("/read-state.html"), wait="#done")
    assert state_cells(read) == dict.fromkeys(STATE_KINDS, (0, 255, 0))
    assert site.hits["/cached.png"] == cached_before + 2


async def test_requests_from_the_page_cannot_reach_internal_addresses(
    service: CaptureService, site: TestSite, canary: Canary, caplog: pytest.LogCaptureFixture
) -> None:
    refused_before = service.egress_refusals
    with caplog.at_level(logging.INFO, logger="gateway.capture.proxy"):
        await shoot(service, site.url(f"/ssrf.html?canary={canary.address}"), wait="#done")
    assert canary.hits == 0
    # img, fetch, https fetch, WebSocket, redirect and iframe, to each of two addresses.
    assert service.egress_refusals - refused_before >= 10
    assert sum("capture egress refused" in record.getMessage() for record in caplog.records) >= 10
    assert site.hits["/redirect"] >= 2  # the trusted hop was made; the redirect's target was refused


async def test_an_internal_page_is_refused(service: CaptureService, site: TestSite, canary: Canary) -> None:
    with pytest.raises(BlockedAddress):
        await shoot(service, f"http://{canary.address}/")
    with pytest.raises(BlockedAddress):
        await shoot(service, "http://169.254.169.254/latest/meta-data/")
    # Redirected there by an allowed page: the proxy refuses the hop, the capture fails.
    with pytest.raises(OriginError):
        await shoot(service, site.url(f"/redirect?to=http://{canary.address}/"))
    assert canary.hits == 0


async def test_captures_leave_no_processes_behind(service: CaptureService, site: TestSite) -> None:
    await shoot(service, site.url("/simple.html"))
    baseline = len(tagged_live_processes(service.process_tag))
    assert baseline > 0
    for _ in range(8):
        await shoot(service, site.url("/tall.html"))
    # Each capture's renderer goes with its context; allow them a moment to exit.
    assert await eventually(lambda: len(tagged_live_processes(service.process_tag)) <= baseline)


@pytest.mark.parametrize(
    "blocked",
    ["http://{canary}/", "http://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "http://no-such.invalid/"],
)
async def test_a_page_that_navigates_itself_to_a_blocked_host_is_not_a_capture(
    service: CaptureService, site: TestSite, canary: Canary, blocked: str
) -> None:
    # It loads fine, then sends itself away; the proxy refuses, Chromium shows "Access to ... was denied",
    # and that error page must never be handed out as the page.
    target = quote(blocked.format(canary=canary.address), safe="")
    with pytest.raises(OriginError):
        await shoot(service, site.url(f"/leave.html?after=100&to={target}"), delay="1500")
    assert canary.hits == 0
    # The same page, sent somewhere allowed, is captured where it lands.
    landed = await shoot(service, site.url("/leave.html?after=100&to=/dark.html"), delay="1500", dark="1")
    assert rgb(landed, 5, 5) == (0, 0, 0)


@pytest.mark.parametrize("opened", ["/popup-alert.html", "/never", "/popup.html"])
async def test_a_page_that_opens_windows_is_captured_in_normal_time(
    service: CaptureService, site: TestSite, opened: str
) -> None:
    # A popup shares its opener's renderer: one that loops or opens a dialog would freeze the capture until
    # it timed out and the browser was killed as hung. None opens, so none can.
    replaced, hits = service.browsers_replaced, site.hits[opened]
    started = time.monotonic()
    image = await shoot(service, site.url(f"/popup.html?to={opened}"))
    assert time.monotonic() - started < CAPTURE_TIMEOUT / 2
    assert rgb(image, 5, 5) == (0, 255, 0)
    assert site.hits[opened] - hits == (1 if opened == "/popup.html" else 0)  # the page itself, no window
    assert service.browsers_replaced == replaced


async def test_a_tab_that_appears_in_a_capture_is_closed(service: CaptureService) -> None:
    # Defence behind the popup blocker: whatever tab shows up in the capture's context is closed before the
    # picture is taken (and the context goes with the capture anyway).
    def open_and_close(browser: Browser, deadline: float) -> tuple[int, int]:
        context = browser._context
        for _ in range(2):
            browser._cdp.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})
        closed = browser.close_other_tabs()

        def left() -> int:
            targets = browser._cdp.call("Target.getTargets")["targetInfos"]
            return sum(target.get("browserContextId") == context and target.get("type") == "page" for target in targets)

        # Closing is asynchronous in Chromium: the tabs go a moment after the call returns.
        while left() > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        return closed, left()

    assert service._pool is not None
    assert await service._pool.run(open_and_close) == (2, 1)


async def test_a_capture_of_the_machinery_itself_is_refused(service: CaptureService) -> None:
    # The browser's own ChromeDriver and DevTools, by the page URL itself, on a loopback the service trusts.
    ports = [port for entry in MachineryPorts().entries().values() for port in entry.values()]
    assert len(ports) >= 4  # the proxy's two listeners, ChromeDriver, DevTools
    for port in ports:
        with pytest.raises(BlockedAddress):
            await shoot(service, f"http://127.0.0.1:{port}/status")
