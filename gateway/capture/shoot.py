"""One capture, step by step, in the fresh browser context the pool hands over.

Order: emulate (viewport, scale, colour scheme) before navigating, so the page lays out once as it will
be captured; navigate; check the selectors with the browser's own CSS parser; wait; hide; for ``full``
and ``el`` scroll through the page for lazy content, then grow the viewport to the page height (capped)
so that what is measured is laid out exactly as what is captured; delay; close any tab the page opened;
then freeze page script, measure, capture, and measure again: redaction covers both measurements, in the
pixels.

A capture is only ever of the page: if the document in the tab is a browser error page (the egress proxy
refused the page, or a navigation the page started by itself, or the network failed), or the document
changed while it was being captured, the capture is ``OriginError`` (502, never cached), never a picture
of Chromium's "Access to ... was denied". The check asks DevTools for the main frame (its URL, the URL
it could not reach, its loader), which page script cannot fake, right after loading and around the
screenshot or print.

Blocking; runs on the browser's slot thread. ``deadline`` is a ``time.monotonic()`` value.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

from selenium.common.exceptions import JavascriptException, TimeoutException, UnexpectedAlertPresentException

from gateway.capture import scripts
from gateway.capture.browser import Browser
from gateway.capture.inject import PageSetup, apply_setup
from gateway.capture.options import CaptureOptions
from gateway.capture.redact import black_out
from gateway.errors import OriginError, Timeout, ValidationError
from gateway.settings import CaptureSettings

# Chromium will not paint a surface taller than this many device pixels in one piece.
MAX_SURFACE_PIXELS = 16_384
# Fonts and images get at most this long to arrive once a whole page is laid out.
SETTLE_BUDGET_S = 5.0
_POLL_S = 0.1


def capture_page(
    browser: Browser,
    url: str,
    opts: CaptureOptions,
    *,
    pdf: bool,
    deadline: float,
    settings: CaptureSettings,
    setup: PageSetup | None = None,
) -> bytes:
    """Return PNG bytes (PDF bytes if ``pdf``) of ``url`` as ``opts`` ask; ``setup`` (a capture job's cookies
    and localStorage) is installed in the fresh context before the page loads."""
    try:
        if setup:
            apply_setup(browser, setup)
        return _capture(browser, url, opts, pdf=pdf, deadline=deadline, settings=settings)
    except TimeoutException as exc:
        # ChromeDriver's page-load or script timeout (both set to what is left of the deadline).
        raise Timeout("the capture did not finish in time") from exc
    except UnexpectedAlertPresentException as exc:
        # A dialog the quiet-dialog script could not prevent (from a cross-origin frame, say).
        raise OriginError("the page kept opening dialogs") from exc


def _capture(
    browser: Browser, url: str, opts: CaptureOptions, *, pdf: bool, deadline: float, settings: CaptureSettings
) -> bytes:
    driver = browser.driver
    scale = float(opts.cdpr)
    _emulate(browser, opts.vw, opts.vh, scale, opts.dark)
    _navigate(browser, url, deadline)
    _check_selectors(browser, opts)
    if opts.wait is not None:
        _wait_for(browser, opts.wait, deadline)
    if opts.hide:
        driver.execute_script(scripts.HIDE, list(opts.hide))
    height = opts.vh
    if opts.full or opts.el is not None:
        height = _lay_out_whole_page(browser, opts, scale, deadline, settings)
    if opts.delay:
        _sleep(opts.delay / 1000, deadline)
    browser.close_other_tabs()
    if pdf:
        document = _document(browser)
        data = _print(browser)
    else:
        # From here on the page's own script cannot move, restyle, restore or navigate anything.
        browser.page_cdp("Emulation.setScriptExecutionDisabled", {"value": True})
        document = _document(browser)
        data = _screenshot(browser, opts, height, scale)
    if _document(browser) != document:
        raise OriginError("the page navigated away while it was being captured")
    return data


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Timeout("the capture did not finish in time")
    return left


def _sleep(seconds: float, deadline: float) -> None:
    if seconds >= _remaining(deadline):
        raise Timeout("the capture did not finish in time")
    time.sleep(seconds)


def _emulate(browser: Browser, width: int, height: int, scale: float, dark: bool) -> None:
    browser.page_cdp(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
    )
    scheme = "dark" if dark else "light"
    browser.page_cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def _navigate(browser: Browser, url: str, deadline: float) -> None:
    driver = browser.driver
    budget = _remaining(deadline)
    driver.set_page_load_timeout(budget)
    driver.set_script_timeout(budget)
    try:
        driver.get(url)
    except TimeoutException as exc:
        raise Timeout("the page did not finish loading in time") from exc
    # A network error (refused by the egress proxy, no such host, TLS failure) shows Chromium's own error
    # page; never hand that out as if it were the page.
    _document(browser)


def _document(browser: Browser) -> str:
    """The loader id of the tab's current document; ``OriginError`` if it is a browser error page."""
    frame: dict[str, Any] = browser.page_cdp("Page.getFrameTree")["frameTree"]["frame"]
    if frame.get("unreachableUrl") or str(frame.get("url", "")).startswith("chrome-error:"):
        raise OriginError("the page could not be loaded")
    return str(frame.get("loaderId", ""))


def _check_selectors(browser: Browser, opts: CaptureOptions) -> None:
    for name, selectors in (("wait", (opts.wait,)), ("el", (opts.el,)), ("hide", opts.hide), ("redact", opts.redact)):
        given = [selector for selector in selectors if selector is not None]
        if given and browser.driver.execute_script(scripts.INVALID_SELECTORS, given):
            raise ValidationError(f"{name}: not a valid CSS selector")


def _wait_for(browser: Browser, selector: str, deadline: float) -> None:
    while not _found(browser, selector):
        if time.monotonic() + _POLL_S >= deadline:
            raise Timeout("wait: no element matched the selector in time")
        time.sleep(_POLL_S)


def _found(browser: Browser, selector: str) -> bool:
    try:
        return bool(browser.driver.execute_script(scripts.FOUND, selector))
    except JavascriptException:
        # The page is navigating (a script redirect): there is no document to ask until it lands.
        return False


def _lay_out_whole_page(
    browser: Browser, opts: CaptureOptions, scale: float, deadline: float, settings: CaptureSettings
) -> int:
    """Load lazy content, then make the viewport as tall as the page (capped); return that height."""
    driver = browser.driver
    limit = min(settings.max_full_height, MAX_SURFACE_PIXELS // math.ceil(scale))
    driver.set_script_timeout(_remaining(deadline))
    driver.execute_async_script(scripts.SCROLL_THROUGH, limit)
    height = min(max(int(driver.execute_script(scripts.DOCUMENT_HEIGHT)), opts.vh), limit)
    browser.page_cdp(
        "Emulation.setDeviceMetricsOverride",
        {"width": opts.vw, "height": height, "deviceScaleFactor": scale, "mobile": False},
    )
    driver.execute_script(scripts.SCROLL_TO_TOP)
    budget_ms = int(min(SETTLE_BUDGET_S, _remaining(deadline)) * 1000)
    driver.execute_async_script(scripts.SETTLE, height, budget_ms)
    return height


def _print(browser: Browser) -> bytes:
    reply = browser.page_cdp("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
    return base64.b64decode(reply["data"])


def _screenshot(browser: Browser, opts: CaptureOptions, height: int, scale: float) -> bytes:
    """The PNG, with page script already frozen (``_capture``)."""
    driver = browser.driver
    if opts.el is not None:
        region = _element_region(browser, opts.el, height)
    elif opts.full:
        region = (0.0, 0.0, float(opts.vw), float(height))
    else:
        scroll_x, scroll_y = driver.execute_script(scripts.SCROLL_POSITION)
        region = (float(scroll_x), float(scroll_y), float(opts.vw), float(opts.vh))
    before = _boxes(browser, opts.redact)
    x, y, width, region_height = region
    clip = {"x": x, "y": y, "width": width, "height": region_height, "scale": 1}
    # Fast PNG encoding: this PNG is an intermediate, decoded again by the transform pipeline.
    params = {"format": "png", "clip": clip, "fromSurface": True, "optimizeForSpeed": True}
    reply = browser.page_cdp("Page.captureScreenshot", params)
    png = base64.b64decode(reply["data"])
    if not opts.redact:
        return png
    after = _boxes(browser, opts.redact)
    return black_out(png, before + after, (x, y), scale)


def _element_region(browser: Browser, selector: str, height: int) -> tuple[float, float, float, float]:
    box: Any = browser.driver.execute_script(scripts.ELEMENT_BOX, selector)
    if not box:
        raise ValidationError("el: no visible element matches the selector")
    x, y, width, box_height = (float(value) for value in box)
    x, y = max(0.0, x), max(0.0, y)
    box_height = min(box_height, height - y)
    if box_height <= 0:
        raise ValidationError("el: the element lies below the capture height limit")
    return x, y, width, box_height


def _boxes(browser: Browser, selectors: tuple[str, ...]) -> list[list[float]]:
    if not selectors:
        return []
    found: Any = browser.driver.execute_script(scripts.BOXES, list(selectors))
    return [[float(value) for value in box] for box in found]
