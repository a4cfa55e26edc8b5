"""Capture jobs with ``auth.headers`` and ``auth.basic`` end to end, in process: the management API, a job worker,
a real Chromium, loopback sites (tests.gateway.jobs.authsite). The jobs complete with the page their header or
credentials unlock, two jobs with different header values each get their own, a third-party host the pages load
from never receives them, a capture domain switched off while the job waited gets nothing, and the planted
values appear in nothing the API answers, the audit log, the log output or the stored job."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pyvips

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.capture.interception import Interception
from tests.gateway.capture.conftest import require_browser
from tests.gateway.jobs import authsite
from tests.gateway.jobs.asgi import send
from tests.gateway.jobs.authsite import DONE, PASSWORD, TOKEN_HEADER, TOKENS, USERNAME, AuthSite
from tests.gateway.jobs.site import COLOURS
from tests.gateway.web.running import call, running

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.anyio]

CAPTURES = "/_/api/v1/captures"
PLANTED = (*TOKENS.values(), PASSWORD)
OUTPUT = {"format": "png", "viewport": {"width": 320, "height": 240}}


class Kept(logging.Handler):
    """Every log record of the module, as it would be written."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def log() -> Iterator[Kept]:
    # The gateway's own loggers at DEBUG (never the root's: pyvips' debug messages deadlock a handler).
    handler = Kept()
    loggers = [logging.getLogger(name) for name in ("gateway", "imgate")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


# The auth sites, shared with the capture's own tests.
third_party = authsite.third_party
site = authsite.site


@pytest.fixture(scope="module")
def partner() -> Iterator[AuthSite]:
    # A second allowed capture domain the pages of ``partnered`` load their subresources from.
    yield from authsite.serving("127.0.0.4")


@pytest.fixture(scope="module")
def partnered(partner: AuthSite) -> Iterator[AuthSite]:
    yield from authsite.serving("127.0.0.1", partner.origin)


@pytest.fixture(scope="module")
def store(site: AuthSite) -> MemoryAccountStore:
    store = MemoryAccountStore()
    store.create_workspace(
        Workspace(namespace="shots", allowed_capture_domains=(site.host,), capture_jobs_allow_http=True)
    )
    return store


@pytest.fixture(scope="module")
def key(store: MemoryAccountStore) -> str:
    secret, _ = issue_api_key(store, "shots", "Jobs", "write")
    return secret


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory, store: MemoryAccountStore, log: Kept) -> AsyncIterator[Any]:
    require_browser()
    settings = {
        "result_store": "disk",
        "trusted_networks": "127.0.0.1/32",
        "capture_trusted_networks": "127.0.0.1/32,127.0.0.3/32,127.0.0.4/32",
        "capture_jobs_allow_http": "true",
        "capture_job_workers": "1",
        "capture_job_poll": "0.1",
        "capture_timeout": "20",
    }
    async with running(tmp_path_factory.mktemp("auth-jobs"), store, None, **settings) as gateway:
        yield gateway


async def submit(app: Any, key: str, body: dict[str, Any]) -> str:
    answer = await send(app, "POST", CAPTURES, key, {"output": OUTPUT, "wait": DONE, **body})
    assert answer.status == 202, answer.body
    return str(json.loads(answer.body)["id"])


async def finished(app: Any, key: str, job_id: str, limit_s: float = 90.0) -> dict[str, Any]:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        document: dict[str, Any] = json.loads((await send(app, "GET", f"{CAPTURES}/{job_id}", key)).body)
        if document["status"] in ("completed", "failed"):
            return document
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


async def colour_of(app: Any, document: dict[str, Any]) -> str:
    assert document["status"] == "completed", (document["error"], document["attempts"])
    url = urlsplit(document["resultUrl"])
    result = await call(app, url.path, url.query.encode())
    assert result.status == 200
    image = pyvips.Image.new_from_buffer(result.body, "")
    found = [int(band) for band in image.getpoint(image.width // 2, image.height // 2)[:3]]
    for name, expected in COLOURS.items():
        if all(abs(a - b) <= 8 for a, b in zip(found, expected, strict=True)):
            return name
    return f"unknown {found}"


def headers_job(colour: str) -> dict[str, Any]:
    return {"auth": {"headers": {TOKEN_HEADER: TOKENS[colour]}}}


async def test_header_jobs_get_their_own_page_and_third_parties_nothing(
    app: Any, key: str, site: AuthSite, third_party: AuthSite
) -> None:
    started = Interception.started
    url = site.url("/token")
    jobs = {
        "green": await submit(app, key, {"url": url, **headers_job("green")}),
        "blue": await submit(app, key, {"url": url, **headers_job("blue")}),
        "red": await submit(app, key, {"url": url}),
    }
    for expected, job_id in jobs.items():
        assert await colour_of(app, await finished(app, key, job_id)) == expected
    assert Interception.started == started + 2  # the job without headers paid for no interception
    assert sorted(seen for seen, _ in site.own_images()) == ["blue", "green", "red"]
    assert all(token == TOKENS.get(seen) for seen, token in site.own_images())
    for path in ("/pixel.png", "/script.js", "/fetch", "/hop.png"):
        assert len(third_party.requests(path)) >= 3, path
    for path, headers in third_party.received:
        assert "x-api-token" not in headers, path
        assert not any(token in value for token in PLANTED for value in headers.values()), path


async def test_a_header_and_a_cookie_arrive_together(app: Any, key: str, site: AuthSite) -> None:
    cookie = {"name": "session", "value": "opaque", "secure": False}
    body = {"url": site.url("/both"), "auth": {"headers": {TOKEN_HEADER: TOKENS["green"]}, "cookies": [cookie]}}
    assert await colour_of(app, await finished(app, key, await submit(app, key, body))) == "green"


async def test_basic_credentials_unlock_the_page(app: Any, key: str, site: AuthSite, third_party: AuthSite) -> None:
    url = site.url("/basic")
    right = await submit(app, key, {"url": url, "auth": {"basic": {"username": USERNAME, "password": PASSWORD}}})
    wrong = await submit(app, key, {"url": url, "auth": {"basic": {"username": USERNAME, "password": "nope"}}})
    without = await submit(app, key, {"url": url})
    assert await colour_of(app, await finished(app, key, right)) == "green"
    assert await colour_of(app, await finished(app, key, wrong)) == "red"
    # Without credentials nothing answers the challenge and the browser shows its own error page, as before.
    failed = await finished(app, key, without)
    assert failed["status"] == "failed" and failed["error"]["code"] == "ORIGIN_ERROR", failed
    assert all("authorization" not in headers for _, headers in third_party.received)


async def test_a_capture_domain_switched_off_while_the_job_waited_gets_nothing(
    app: Any, key: str, store: MemoryAccountStore, site: AuthSite, partnered: AuthSite, partner: AuthSite
) -> None:
    workspace = store.get_workspace("shots")
    assert workspace is not None
    both = (site.host, partnered.host, partner.host)
    store.update_workspace(replace(workspace, allowed_capture_domains=both))
    try:
        # Both domains on: the partner's subresources of the page get the header (what the second job must not).
        url = partnered.url("/token")
        first = await submit(app, key, {"url": url, **headers_job("green")})
        assert await colour_of(app, await finished(app, key, first)) == "green"
        assert partner.requests("/pixel.png")[-1].get("x-api-token") == TOKENS["green"]
        seen = len(partner.received)
        second = await submit(app, key, {"url": url, **headers_job("blue")})
        # Switched off before the worker reads the workspace: nothing awaited between the submit and this.
        on = store.get_workspace("shots")
        assert on is not None
        store.update_workspace(replace(on, disabled_capture_domains=(partner.host,)))
        assert await colour_of(app, await finished(app, key, second)) == "blue"
        later = partner.received[seen:]
        assert {urlsplit(path).path for path, _ in later} >= {"/pixel.png", "/script.js", "/fetch", "/hop.png"}
        assert all("x-api-token" not in headers for _, headers in later), later
    finally:
        now = store.get_workspace("shots")
        assert now is not None
        store.update_workspace(replace(now, allowed_capture_domains=(site.host,), disabled_capture_domains=()))


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        ({"headers": {"Host": "internal"}}, "auth.headers.Host"),
        ({"headers": {"proxy-authorization": TOKENS["green"]}}, "auth.headers.proxy-authorization"),
        ({"headers": {"Connection": "close"}}, "auth.headers.Connection"),
        ({"headers": {"Transfer-Encoding": "chunked"}}, "auth.headers.Transfer-Encoding"),
        ({"headers": {"Cookie": f"s={TOKENS['green']}"}}, "auth.headers.Cookie"),
        ({"headers": {"Content-Length": "1"}}, "auth.headers.Content-Length"),
        ({"headers": {"Sec-Fetch-Site": "none"}}, "auth.headers.Sec-Fetch-Site"),
        ({"headers": {"X-Token": f"{TOKENS['green']}\r\nX-Other: 1"}}, "auth.headers.X-Token"),
        ({"headers": {"Bad Name": TOKENS["green"]}}, "auth.headers"),
        ({"headers": {"X-A": "1", "x-a": "2"}}, "auth.headers.x-a"),
        (
            {"headers": {"Authorization": "Bearer x"}, "basic": {"username": USERNAME, "password": PASSWORD}},
            "auth.headers.Authorization",
        ),
        ({"basic": {"username": "a:b", "password": PASSWORD}}, "auth.basic.username"),
        ({"basic": {"username": USERNAME, "password": f"{PASSWORD}\n"}}, "auth.basic.password"),
    ],
)
async def test_refused_headers_and_credentials_name_the_field(
    app: Any, key: str, site: AuthSite, auth: dict[str, Any], field: str
) -> None:
    answer = await send(app, "POST", CAPTURES, key, {"url": site.url("/token"), "auth": auth})
    assert answer.status == 400, answer.body
    error = json.loads(answer.body)["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["message"].startswith(field + ":"), error
    assert not any(value.encode() in answer.body for value in PLANTED)


async def test_planted_values_are_nowhere(
    app: Any, key: str, store: MemoryAccountStore, log: Kept, tmp_path_factory: pytest.TempPathFactory
) -> None:
    listed = await send(app, "GET", CAPTURES, key, query=b"limit=200")
    answers = [listed, await send(app, "GET", "/_/api/v1/workspaces/shots/audit", key)]
    jobs = store.capture_jobs.list_jobs("shots", limit=200)
    assert len(jobs) >= 7
    answers += [await send(app, "GET", f"{CAPTURES}/{job.job_id}", key) for job in jobs]
    for answer in answers:
        assert answer.status == 200
        assert not any(value.encode() in answer.body for value in PLANTED)
    for job in jobs:
        assert not any(value in job.spec or value in (job.auth_sealed or "") for value in PLANTED)
        assert job.auth_sealed is None  # every job ended: its sealed auth went with it
    assert log.lines, "no log output was kept: the search below would prove nothing"
    text = "\n".join(log.lines)
    assert not any(value in text for value in PLANTED)
    for path in Path(tmp_path_factory.getbasetemp()).rglob("*"):
        if path.is_file() and "auth-jobs" in str(path):
            data = path.read_bytes()
            assert not any(value.encode() in data for value in PLANTED), path.name
