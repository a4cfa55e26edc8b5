"""Capture domains switched off, and capture retention after a plan downgrade, on a Granian-served gateway with
a real Chromium: switched through the management API and the ``imgate`` command, observed through image URLs.

A disabled capture domain keeps what is rendered (memory tier, and the result store another node reads) and
takes no new capture; a retention chosen on a bigger plan is capped by the current plan's longest option.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import TestSite
from tests.integration.api_client import Api, create_key
from tests.integration.servers import GatewayProcess, imgate

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DAY = 86400
CAPTURE_SETTINGS = {
    "trusted_networks": "127.0.0.1/32",
    "capture_trusted_networks": "127.0.0.1/32",
    "capture_timeout": "15",
}


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    server = TestSite()
    yield server
    server.close()


@pytest.fixture(scope="module")
def site_pattern(site: TestSite) -> str:
    return f"127.0.0.1:{site.origin.rsplit(':', 1)[1]}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, site_pattern: str) -> Iterator[GatewayProcess]:
    require_browser()
    gw = GatewayProcess(tmp_path_factory.mktemp("capdomains"), settings=CAPTURE_SETTINGS)
    gw.add_workspace(Workspace(namespace="shots", allowed_capture_domains=(site_pattern, "*.example.com")))
    gw.add_workspace(
        Workspace(
            namespace="downgraded", plan="business", allowed_capture_domains=(site_pattern,), capture_retention=30 * DAY
        )
    )
    with gw:
        yield gw


def capture(gw: GatewayProcess, namespace: str, url: str, query: str) -> httpx.Response:
    return httpx.get(f"{gw.url}/{namespace}/?capture={quote(url, safe='')}{query}", timeout=60)


def eventually(check: Callable[[], bool], limit_s: float = 10.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_disabled_capture_domain_keeps_its_captures_and_takes_no_new_one(
    gateway: GatewayProcess, site: TestSite, site_pattern: str
) -> None:
    page = site.url("/simple.html")
    first = capture(gateway, "shots", page, "&vw=800&vh=500&w=200&fm=png")
    assert (first.status_code, first.headers["x-imgate-cache"]) == (200, "miss"), first.text

    api = Api(gateway, create_key(gateway.data_dir, "shots", "Switches"))
    revision = api.get("/workspaces/shots").json()["revision"]
    switched = api.patch(
        "/workspaces/shots",
        {
            "revision": revision,
            "capture_domains": [{"pattern": site_pattern, "enabled": False}, {"pattern": "*.example.com"}],
        },
    )
    assert switched.status_code == 200, switched.text
    assert switched.json()["capture_domains"] == [
        {"pattern": site_pattern, "enabled": False},
        {"pattern": "*.example.com", "enabled": True},
    ]
    assert switched.json()["allowed_capture_domains"] == [site_pattern, "*.example.com"]

    # A capture not rendered yet is refused, before any browser work: the page is not even fetched (another
    # viewport, so the originals cache holds no screenshot of it either).
    def refused() -> bool:
        return capture(gateway, "shots", page, "&vw=810&vh=500&w=210&fm=png").status_code == 403

    assert eventually(refused)
    visits = site.hits["/simple.html"]
    new = capture(gateway, "shots", page, "&vw=810&vh=500&w=220&fm=png")
    assert (new.status_code, new.json()["error"]["code"]) == (403, "CAPTURE_DOMAIN_DISABLED")
    assert new.headers["cache-control"] == "no-store"
    assert site.hits["/simple.html"] == visits

    # What is rendered stays served: from this node's memory tier ...
    kept = capture(gateway, "shots", page, "&vw=800&vh=500&w=200&fm=png")
    assert (kept.status_code, kept.headers["x-imgate-cache"]) == (200, "memory")
    assert kept.content == first.content
    # ... and from the result store, by another node that never rendered it.
    with GatewayProcess(gateway.data_dir, settings=CAPTURE_SETTINGS) as other:
        stored = capture(other, "shots", page, "&vw=800&vh=500&w=200&fm=png")
        assert (stored.status_code, stored.headers["x-imgate-cache"]) == (200, "store"), stored.text
        assert stored.content == first.content
        refused_there = capture(other, "shots", page, "&vw=810&vh=500&w=220&fm=png")
        assert refused_there.json()["error"]["code"] == "CAPTURE_DOMAIN_DISABLED"

    # The operator switches it on again with the command; new captures are taken again.
    done = imgate(gateway.data_dir, "workspace", "update", "shots", "--enable-capture-domain", site_pattern)
    assert done.returncode == 0, done.stderr

    def captured() -> bool:
        return capture(gateway, "shots", page, "&vw=820&vh=500&w=220&fm=png").status_code == 200

    assert eventually(captured)
    assert site.hits["/simple.html"] > visits


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"capture_domains": [{"pattern": "a.example.com"}], "allowed_capture_domains": []}, "either"),
        ({"capture_domains": [{"pattern": "a.example.com", "on": True}]}, "body.capture_domains.0.on"),
        ({"capture_domains": [{"pattern": "a.example.com", "enabled": "no"}]}, "body.capture_domains.0.enabled"),
        ({"capture_domains": [{"enabled": False}]}, "body.capture_domains.0.pattern"),
        ({"capture_domains": [{"pattern": "*.com", "enabled": False}]}, "'*.com'"),
    ],
)
def test_capture_domain_bodies_are_checked(gateway: GatewayProcess, body: dict[str, object], words: str) -> None:
    api = Api(gateway, create_key(gateway.data_dir, "shots", "Checks"))
    before = api.get("/workspaces/shots").json()
    response = api.patch("/workspaces/shots", body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "VALIDATION_ERROR"), response.text
    assert words in response.json()["error"]["message"]
    assert api.get("/workspaces/shots").json()["revision"] == before["revision"]


def test_a_host_no_capture_domain_names_is_still_not_allowed(gateway: GatewayProcess) -> None:
    response = capture(gateway, "shots", "https://example.org/", "&w=200")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "DOMAIN_NOT_ALLOWED")


def test_a_retention_chosen_before_a_downgrade_is_capped_by_the_new_plan(
    gateway: GatewayProcess, site: TestSite, data_dir_store: Callable[[], SqliteAccountStore]
) -> None:
    page = site.url("/simple.html")
    before = capture(gateway, "downgraded", page, "&vw=640&vh=400&w=160&fm=png")
    assert before.status_code == 200, before.text
    assert before.headers["cache-control"] == f"public, max-age={30 * DAY}"

    # Billing moves the workspace to the free plan (longest retention: one day); the stored choice stays.
    store = data_dir_store()
    try:
        current = store.get_workspace("downgraded")
        assert current is not None
        store.update_workspace(dataclasses.replace(current, plan="free"))
    finally:
        store.close()

    def capped() -> bool:
        answer = capture(gateway, "downgraded", page, "&vw=640&vh=400&w=160&fm=png")
        return bool(answer.headers.get("cache-control") == f"public, max-age={DAY}")

    # Not the entry rendered under 30 days (its max-age would outlive the plan): a new one, kept a day.
    assert eventually(capped)
    again = capture(gateway, "downgraded", page, "&vw=640&vh=400&w=160&fm=png")
    assert (again.headers["cache-control"], again.headers["x-imgate-cache"]) == (f"public, max-age={DAY}", "memory")

    shown = Api(gateway, create_key(gateway.data_dir, "downgraded", "Reader", "read")).get("/workspaces/downgraded")
    assert (shown.json()["capture_retention"], shown.json()["capture_retention_in_force"]) == (30 * DAY, DAY)


@pytest.fixture
def data_dir_store(gateway: GatewayProcess) -> Callable[[], SqliteAccountStore]:
    path: Path = gateway.data_dir / "imgate.sqlite3"
    return lambda: SqliteAccountStore(path)
