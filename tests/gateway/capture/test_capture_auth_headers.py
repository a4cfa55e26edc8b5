"""A capture job's extra request headers and basic credentials through a real Chromium: they reach the page's own
allowed host (the page paints green only with them), and never a third-party host the page loads an image, a
script, a fetch or a redirected image from, which records every header it is sent. Also: https only unless the
job may use http, a switched-off capture domain gets nothing, a third party's own challenge is cancelled, a wrong
password is not retried, an answer DevTools refuses or a check that fails lets the request go on (never left
paused), a capture without them opens no interception, and remote browsers reachable only over WebDriver BiDi
refuse them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator

import pytest
import pyvips

from gateway.capture import CaptureService, CaptureSettings, parse_capture_options
from gateway.capture.inject import PageSetup
from gateway.capture.interception import _STOP_WAIT_S, Interception, NetworkAuth
from gateway.errors import CaptureAuthUnsupported
from gateway.jobs.scope import CaptureScope
from gateway.netguard import NetGuard
from tests.gateway.capture import test_remote_browser as remote_browser
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.test_remote_browser import RemoteChromeDriver
from tests.gateway.jobs import authsite
from tests.gateway.jobs.authsite import DONE, PASSWORD, TOKEN_HEADER, TOKENS, USERNAME, AuthSite
from tests.gateway.jobs.site import COLOURS

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.anyio]

THIRD_PARTY_PATHS = ("/pixel.png", "/script.js", "/fetch", "/hop.png")
# The auth sites, shared with the jobs' tests (this module's own, overriding the capture conftest's ``site``).
third_party = authsite.third_party
site = authsite.site
remote = remote_browser.remote


@pytest.fixture(scope="module")
async def service(site: AuthSite) -> AsyncIterator[CaptureService]:
    require_browser()
    settings = CaptureSettings(pool_size=1, max_concurrency=1, timeout=20)
    capture = CaptureService(settings, NetGuard(["127.0.0.1/32", "127.0.0.3/32"]))
    await capture.start()
    yield capture
    await capture.aclose()


def network(
    site: AuthSite,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    basic: tuple[str, str] | None = None,
    allowed: tuple[str, ...] | None = None,
    disabled: tuple[str, ...] = (),
    plain_http: bool = True,
) -> PageSetup:
    """A job's setup with only headers or credentials; by default for the site's own host, over http too."""
    scope = (site.host,) if allowed is None else allowed
    return PageSetup(network=NetworkAuth(headers, basic, CaptureScope(scope, disabled, plain_http)))


async def colour(service: CaptureService, url: str, setup: PageSetup | None) -> str:
    options = parse_capture_options([("vw", "320"), ("vh", "240"), ("wait", DONE)])
    image = pyvips.Image.new_from_buffer(await service.capture(url, options, setup=setup), "")
    found = [int(band) for band in image.getpoint(160, 200)[:3]]
    for name, expected in COLOURS.items():
        if all(abs(a - b) <= 8 for a, b in zip(found, expected, strict=True)):
            return name
    return f"unknown {found}"


def assert_third_party_saw_nothing(third_party: AuthSite, *secrets: str) -> None:
    for path in THIRD_PARTY_PATHS:
        assert third_party.requests(path), f"the page never loaded {path}: the check below would prove nothing"
    for path, headers in third_party.received:
        assert "x-api-token" not in headers and "authorization" not in headers, (path, headers)
        assert not any(secret in value for secret in secrets for value in headers.values()), path


async def test_headers_reach_the_allowed_host_only(
    service: CaptureService, site: AuthSite, third_party: AuthSite
) -> None:
    green = network(site, headers=((TOKEN_HEADER, TOKENS["green"]), ("Accept-Language", "fr")))
    assert await colour(service, site.url("/token"), green) == "green"
    own = site.requests("/own.png")[-1]
    # Also the page's own subresources, and an override of a header the browser sets replaces it.
    assert own["x-api-token"] == TOKENS["green"] and own["accept-language"] == "fr"
    # The redirect hop on the allowed host got it; the hop it redirected to did not.
    assert site.requests("/redirect")[-1]["x-api-token"] == TOKENS["green"]
    # A navigation the allowed host redirects to a third party arrives there without them.
    assert await colour(service, site.url(f"/redirect?to={third_party.origin}/token"), green) == "red"
    assert third_party.requests("/token")
    assert_third_party_saw_nothing(third_party, TOKENS["green"])


async def test_captures_with_different_headers_never_see_each_others(
    service: CaptureService, site: AuthSite, third_party: AuthSite
) -> None:
    before = len(site.requests("/token"))
    blue = network(site, headers=((TOKEN_HEADER, TOKENS["blue"]),))
    green = network(site, headers=((TOKEN_HEADER, TOKENS["green"]),))
    assert await colour(service, site.url("/token"), blue) == "blue"
    assert await colour(service, site.url("/token"), green) == "green"
    assert await colour(service, site.url("/token"), None) == "red"  # the same browser, nothing left behind
    seen = [headers.get("x-api-token") for headers in site.requests("/token")[before:]]
    assert seen == [TOKENS["blue"], TOKENS["green"], None]
    # The page that asked for its image (?seen=colour) is the one whose header came with it, every time.
    assert all(token == TOKENS.get(seen) for seen, token in site.own_images())
    assert_third_party_saw_nothing(third_party, *TOKENS.values())


async def test_http_a_switched_off_domain_and_other_hosts_get_nothing(service: CaptureService, site: AuthSite) -> None:
    headers = ((TOKEN_HEADER, TOKENS["green"]),)
    # An https job: its headers never travel over plain http, not even to the allowed host.
    assert await colour(service, site.url("/token"), network(site, headers=headers, plain_http=False)) == "red"
    disabled = network(site, headers=headers, disabled=(site.host,))
    assert await colour(service, site.url("/token"), disabled) == "red"
    # Allowed: the same host on another port only (a pattern without a port allows only the default one).
    elsewhere = network(site, headers=headers, allowed=("127.0.0.1", "127.0.0.1:1"))
    assert await colour(service, site.url("/token"), elsewhere) == "red"


async def test_basic_credentials_answer_the_allowed_hosts_challenge_only(
    service: CaptureService, site: AuthSite, third_party: AuthSite
) -> None:
    credentials = network(site, basic=(USERNAME, PASSWORD))
    assert await colour(service, site.url("/basic"), credentials) == "green"
    # The allowed page sends the tab on to a third party that asks for credentials as well: it gets none.
    onwards = site.url(f"/redirect?to={third_party.origin}/challenge")
    assert await colour(service, onwards, credentials) == "red"
    assert third_party.requests("/challenge")
    assert_third_party_saw_nothing(third_party, PASSWORD)
    before = len(site.requests("/basic"))
    # A wrong password is tried once, not again and again: the 401 page is what is captured.
    assert await colour(service, site.url("/basic"), network(site, basic=(USERNAME, "wrong"))) == "red"
    assert 1 <= len(site.requests("/basic")) - before <= 2
    # Not over http for an https job, and not for a host that is not allowed.
    assert await colour(service, site.url("/basic"), network(site, basic=(USERNAME, PASSWORD), plain_http=False)) == (
        "red"
    )
    foreign = network(site, basic=(USERNAME, PASSWORD), allowed=("127.0.0.1:1",))
    assert await colour(service, site.url("/basic"), foreign) == "red"
    assert all("authorization" not in headers for headers in site.requests("/basic")[-2:])


async def test_a_capture_without_headers_or_credentials_opens_no_interception(
    service: CaptureService, site: AuthSite
) -> None:
    started = Interception.started
    assert await colour(service, site.url("/token"), None) == "red"
    assert await colour(service, site.url("/token"), PageSetup(css="p { color: red }")) == "red"
    assert Interception.started == started
    assert await colour(service, site.url("/token"), network(site, headers=((TOKEN_HEADER, TOKENS["blue"]),))) == (
        "blue"
    )
    assert Interception.started == started + 1
    # It lived as long as the capture: its thread ends with it (joined for up to _STOP_WAIT_S; a busy machine
    # may finish the join a little later than the answer).
    end = time.monotonic() + 3 * _STOP_WAIT_S
    while [thread for thread in threading.enumerate() if thread.name == "capture-interception"]:
        assert time.monotonic() < end, "the interception's thread outlived its capture"
        time.sleep(0.05)


def _failing(url: str) -> bool:
    raise ValueError("a check that fails")


async def test_an_answer_that_fails_lets_the_request_go_on(
    service: CaptureService, site: AuthSite, caplog: pytest.LogCaptureFixture
) -> None:
    # DevTools refuses an override with a header value it will not send: the request goes on without it rather
    # than stay paused until the capture times out.
    refused = network(site, headers=((TOKEN_HEADER, "bad\nvalue"),))
    with caplog.at_level(logging.WARNING, logger="gateway.capture.interception"):
        assert await colour(service, site.url("/token"), refused) == "red"
    assert "refused" in caplog.text and "bad" not in caplog.text
    caplog.clear()
    # A scope check that raises: every request goes on unchanged, every challenge is cancelled.
    raising = PageSetup(network=NetworkAuth(((TOKEN_HEADER, TOKENS["green"]),), None, _failing))
    challenged = PageSetup(network=NetworkAuth((), (USERNAME, PASSWORD), _failing))
    with caplog.at_level(logging.WARNING, logger="gateway.capture.interception"):
        assert await colour(service, site.url("/token"), raising) == "red"
        assert await colour(service, site.url("/basic"), challenged) == "red"
    assert "ValueError" in caplog.text and TOKENS["green"] not in caplog.text and PASSWORD not in caplog.text
    assert all("authorization" not in headers for headers in site.requests("/basic")[-2:])


async def test_remote_browsers_over_bidi_refuse_them(remote: RemoteChromeDriver, site: AuthSite) -> None:
    settings = CaptureSettings(pool_size=1, max_concurrency=1, timeout=15, grid_url=remote.url)
    capture = CaptureService(settings, NetGuard(["127.0.0.1/32", "127.0.0.3/32"]))
    await capture.start()
    try:
        headers = network(site, headers=((TOKEN_HEADER, TOKENS["green"]),))
        with pytest.raises(CaptureAuthUnsupported) as refused:
            await colour(capture, site.url("/token"), headers)
        assert TOKENS["green"] not in str(refused.value)
        # The browser is still fine for everything else.
        assert await colour(capture, site.url("/token"), None) == "red"
    finally:
        await capture.aclose()
