"""Capture jobs end to end: a real gateway (Granian), real Chromium, a loopback site behind a login cookie and
one that needs localStorage, signed result URLs, zero retention, signed webhooks, SSRF refusals counted by a
canary, a worker killed mid-capture, and planted secrets searched for in everything the gateway wrote."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from gateway.accounts.keys import issue_api_key
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.tokens import TokenSigner
from gateway.capture.procs import kill_processes
from gateway.jobs.links import ResultLinks
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import Canary
from tests.gateway.jobs.site import COLOURS, PASSWORD, STORAGE_TOKEN, JobSite
from tests.integration.servers import GatewayProcess

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PLANTED_COOKIES = {"green": "green", "blue": "blue"}
PLANTED_TRACER = "planted-tracer-cookie-91b2"
PLANTED_HEADER = "planted-header-value-4e7d"
PLANTED_PASSWORD = "planted-basic-password-0b5f"  # noqa: S105 - a test's planted value
LEASE = 4.0


@pytest.fixture(scope="module")
def site() -> Iterator[JobSite]:
    server = JobSite()
    yield server
    server.close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, site: JobSite) -> Iterator[GatewayProcess]:
    require_browser()
    gw = GatewayProcess(
        tmp_path_factory.mktemp("jobs"),
        trusted_networks="127.0.0.1/32",
        capture_trusted_networks="127.0.0.1/32",
        capture_timeout="15",
        capture_jobs_allow_http="true",
        capture_job_poll="0.2",
        capture_job_lease=str(LEASE),
        webhook_retry_for="2",
        usage_flush_interval="0.5",
    )
    gw.add_workspace(Workspace(namespace="shots", allowed_capture_domains=(site.host,), capture_jobs_allow_http=True))
    with gw:
        yield gw
    _kill_orphaned_browsers(gw.data_dir)


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    store = SqliteAccountStore(gateway.data_dir / "imgate.sqlite3")
    try:
        secret, _ = issue_api_key(store, "shots", "Jobs", "write")
    finally:
        store.close()
    return secret


def _kill_orphaned_browsers(data_dir: Path) -> None:
    """Browsers of a gateway killed outright outlive it (their own sessions): find them by the tags the gateway
    registered under its own data folder, and only those."""
    registry = data_dir / "run" / "capture-ports"
    for entry in registry.glob("*.json") if registry.exists() else []:
        tag = entry.stem.split("-", 1)[1].rsplit(".", 1)[0]
        if tag.startswith("imgate-"):
            kill_processes(tag)


def api(gw: GatewayProcess, key: str, method: str, path: str, body: object = None) -> httpx.Response:
    return httpx.request(
        method, f"{gw.url}/_/api/v1{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def submit(gw: GatewayProcess, key: str, body: dict[str, Any]) -> str:
    answer = api(gw, key, "POST", "/captures", body)
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"].endswith(answer.json()["id"])
    return str(answer.json()["id"])


def finished(gw: GatewayProcess, key: str, job_id: str, limit_s: float = 90.0) -> dict[str, Any]:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        document = api(gw, key, "GET", f"/captures/{job_id}").json()
        if document["status"] in ("completed", "failed"):
            return dict(document)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {document}")


def colour_of(data: bytes) -> tuple[int, int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    red, green, blue = image.getpoint(image.width // 2, image.height // 2)[:3]
    return int(red), int(green), int(blue)


def near(found: tuple[int, int, int], name: str) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(found, COLOURS[name], strict=True))


def test_cookies_reach_only_their_own_job(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    url = site.url("/private")
    output = {"format": "png", "viewport": {"width": 320, "height": 240}, "transform": {"w": "160"}}
    jobs = {
        name: submit(
            gateway,
            key,
            {
                "url": url,
                "output": output,
                "auth": {
                    "cookies": [
                        {"name": "session", "value": value, "secure": False},
                        {"name": "tracer", "value": PLANTED_TRACER, "secure": False},
                    ]
                },
            },
        )
        for name, value in PLANTED_COOKIES.items()
    }
    anonymous = submit(gateway, key, {"url": url, "output": output})
    for name, job_id in [*jobs.items(), ("red", anonymous)]:
        document = finished(gateway, key, job_id)
        assert document["status"] == "completed", document
        assert (document["width"], document["height"], document["format"]) == (160, 120, "png")
        result = httpx.get(document["resultUrl"], timeout=30)
        assert result.status_code == 200 and result.headers["content-type"] == "image/png"
        assert result.headers["cache-control"] == "private, no-store"
        assert near(colour_of(result.content), name), (name, colour_of(result.content))
        assert PLANTED_TRACER not in json.dumps(document)


def test_local_storage_and_css_are_set_before_the_capture(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    body = {"url": site.url("/storage"), "output": {"format": "jpeg", "quality": 90}}
    with_token = submit(gateway, key, {**body, "auth": {"localStorage": {"token": STORAGE_TOKEN}}})
    without = submit(gateway, key, body)
    styled = submit(gateway, key, {"url": site.url("/login"), "css": "body { background: rgb(0, 0, 200) !important }"})
    documents = [finished(gateway, key, job_id) for job_id in (with_token, without, styled)]
    images = [httpx.get(document["resultUrl"], timeout=30) for document in documents]
    assert images[0].headers["content-type"] == "image/jpeg"
    assert near(colour_of(images[0].content), "green")
    assert near(colour_of(images[1].content), "red")  # the first job's storage died with its context
    assert near(colour_of(images[2].content), "blue")


def test_ads_and_cookie_banners_are_blocked_when_asked(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    body = {"url": site.url("/cluttered"), "output": {"viewport": {"width": 320, "height": 240}}}
    plain = submit(gateway, key, body)
    blocked = submit(gateway, key, {**body, "blockAds": True, "blockCookieBanners": True})
    banners_only = submit(gateway, key, {**body, "blockCookieBanners": True})
    shots = []
    for job_id in (plain, blocked, banners_only):
        document = finished(gateway, key, job_id)
        assert document["status"] == "completed", document
        shots.append(pyvips.Image.new_from_buffer(httpx.get(document["resultUrl"], timeout=30).content, ""))

    def at(image: pyvips.Image, x: int, y: int) -> tuple[int, int, int]:
        red, green, blue = image.getpoint(x, y)[:3]
        return int(red), int(green), int(blue)

    assert near(at(shots[0], 20, 20), "blue") and near(at(shots[0], 160, 200), "red")
    assert near(at(shots[1], 20, 20), "green") and near(at(shots[1], 160, 200), "green")
    assert near(at(shots[2], 20, 20), "blue") and near(at(shots[2], 160, 200), "green")


def test_result_urls_expire_refuse_tampering_and_zero_retention(
    gateway: GatewayProcess, key: str, site: JobSite
) -> None:
    kept = finished(gateway, key, submit(gateway, key, {"url": site.url("/login")}))
    once = finished(gateway, key, submit(gateway, key, {"url": site.url("/login"), "retention": 0}))
    url = kept["resultUrl"]
    assert httpx.get(url, timeout=30).status_code == 200
    assert httpx.get(url, timeout=30).status_code == 200  # kept: any number of downloads until it expires
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert httpx.get(tampered, timeout=30).status_code == 403
    assert (
        httpx.get(url.replace(f"exp={kept['expiresAt']}", f"exp={kept['expiresAt'] + 60}"), timeout=30).status_code
        == 403
    )
    links = ResultLinks(TokenSigner(SecretBox((gateway.data_dir / "secret.key").read_bytes().strip())))
    expired = httpx.get(f"{gateway.url}{links.path(kept['id'], int(time.time()) - 5)}", timeout=30)
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "GONE"
    # Zero retention: one download, then nothing; a HEAD before it answers the same and leaves it.
    head = httpx.head(once["resultUrl"], timeout=30)
    assert head.status_code == 200 and head.headers["content-length"] == str(once["bytes"]) and not head.content
    assert httpx.get(once["resultUrl"], timeout=30).status_code == 200
    again = httpx.get(once["resultUrl"], timeout=30)
    assert again.status_code == 410
    assert api(gateway, key, "GET", f"/captures/{once['id']}").json()["resultDeletedAt"] is not None
    assert not list((gateway.data_dir / "results" / "shots" / "job" / once["id"]).rglob("*"))
    # DELETE removes a kept result at once.
    deleted = api(gateway, key, "DELETE", f"/captures/{kept['id']}")
    assert deleted.status_code == 200 and deleted.json()["resultUrl"] is None
    assert httpx.get(url, timeout=30).status_code == 410


def _month_usage(gw: GatewayProcess) -> tuple[int, int]:
    store = SqliteAccountStore(gw.data_dir / "imgate.sqlite3")
    try:
        now = time.gmtime()
        totals = store.usage.month_totals("shots", now.tm_year, now.tm_mon)
    finally:
        store.close()
    return totals.captures, totals.bytes_out


def test_a_job_and_its_download_are_counted_in_usage_and_health(
    gateway: GatewayProcess, key: str, site: JobSite
) -> None:
    captures, bytes_out = _month_usage(gateway)
    document = finished(gateway, key, submit(gateway, key, {"url": site.url("/login")}))
    assert document["status"] == "completed", document
    downloaded = httpx.get(document["resultUrl"], timeout=30)
    assert downloaded.status_code == 200 and len(downloaded.content) == document["bytes"]
    end = time.monotonic() + 15
    while _month_usage(gateway) < (captures + 1, bytes_out + document["bytes"]) and time.monotonic() < end:
        time.sleep(0.2)
    now_captures, now_bytes = _month_usage(gateway)
    assert now_captures == captures + 1 and now_bytes >= bytes_out + document["bytes"]
    entry = httpx.get(f"{gateway.url}/_/health", timeout=30).json()["checks"]["capture_jobs"]
    assert entry["status"] == "ok" and entry["workers"] >= 1 and entry["queued"] == 0
    status = api(gateway, key, "GET", "/captures/status").json()
    assert status["running"] is True and status["queued"] == 0 and status["oldestQueuedAge"] is None


def test_networkidle_waits_for_a_late_image(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    late = site.url("/late-image")
    idle = finished(gateway, key, submit(gateway, key, {"url": late, "wait": "networkidle"}))
    loaded = finished(gateway, key, submit(gateway, key, {"url": late}))
    assert idle["status"] == "completed" and loaded["status"] == "completed", (idle, loaded)
    assert near(colour_of(httpx.get(idle["resultUrl"], timeout=30).content), "blue")
    assert near(colour_of(httpx.get(loaded["resultUrl"], timeout=30).content), "green")  # load: too early


def test_actions_type_click_and_wait_before_the_capture(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    steps = [
        {"type": "type", "selector": "#word", "text": PASSWORD},
        {"type": "scroll", "selector": "#go"},
        {"type": "click", "selector": "#go"},
        {"type": "wait", "selector": "#revealed"},
    ]
    done = finished(gateway, key, submit(gateway, key, {"url": site.url("/reveal"), "actions": steps}))
    assert done["status"] == "completed", done
    assert near(colour_of(httpx.get(done["resultUrl"], timeout=30).content), "blue")
    # A step whose element never comes: the page is never marked, and the job fails on its time cap.
    missing = [{"type": "click", "selector": "#nowhere"}]
    failed = finished(gateway, key, submit(gateway, key, {"url": site.url("/reveal"), "actions": missing}))
    assert failed["status"] == "failed" and failed["error"]["code"] == "TIMEOUT", failed


def test_webhook_is_signed_and_verifies(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    secret = api(gateway, key, "POST", "/captures/webhook-secret").json()["secret"]
    job_id = submit(gateway, key, {"url": site.url("/login"), "webhookUrl": site.url("/hook")})
    finished(gateway, key, job_id)
    end = time.monotonic() + 20
    while not any(json.loads(body)["id"] == job_id for _, body in site.hooks) and time.monotonic() < end:
        time.sleep(0.1)
    headers, body = next((h, b) for h, b in site.hooks if json.loads(b)["id"] == job_id)
    # What the README tells a receiver to do.
    fields = dict(part.split("=", 1) for part in headers["imgate-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert abs(int(fields["t"]) - time.time()) < 60
    document = json.loads(body)
    assert document["status"] == "completed" and httpx.get(document["resultUrl"], timeout=30).status_code == 200


def test_ssrf_is_refused_at_submit_and_in_flight(
    gateway: GatewayProcess, key: str, site: JobSite, canary: Canary
) -> None:
    api(gateway, key, "POST", "/captures/webhook-secret")
    blocked_page = api(gateway, key, "POST", "/captures", {"url": f"http://{canary.address}/"})
    assert blocked_page.status_code == 403  # not an allowed capture domain, whatever it resolves to
    for hook in (f"http://{canary.address}/", "http://169.254.169.254/latest/meta-data/"):
        refused = api(gateway, key, "POST", "/captures", {"url": site.url("/login"), "webhookUrl": hook})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "BLOCKED_ADDRESS", refused.text
    # Redirects: the page's to the canary fails the job; the webhook's is never followed.
    page_redirect = site.url(f"/redirect?to=http://{canary.address}/")
    failed = finished(gateway, key, submit(gateway, key, {"url": page_redirect}))
    assert failed["status"] == "failed" and failed["error"]["code"] in ("ORIGIN_ERROR", "BLOCKED_ADDRESS")
    hook_redirect = site.url(f"/redirect?to=http://{canary.address}/")
    job_id = submit(gateway, key, {"url": site.url("/login"), "webhookUrl": hook_redirect})
    finished(gateway, key, job_id)
    end = time.monotonic() + 5
    while site.hits["POST /redirect"] == 0 and time.monotonic() < end:
        time.sleep(0.1)
    assert site.hits["POST /redirect"] >= 1
    time.sleep(1)
    assert canary.hits == 0


def test_a_worker_killed_mid_capture_is_retried(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    job_id = submit(gateway, key, {"url": site.url("/slow-once")})
    assert site.slow_started.wait(60)
    os.killpg(gateway.process._popen.pid, signal.SIGKILL)  # noqa: SLF001 - a crash, not a shutdown
    gateway.process._popen.wait(10)  # noqa: SLF001
    _kill_orphaned_browsers(gateway.data_dir)
    site.release.set()
    gateway.start()
    document = finished(gateway, key, job_id, limit_s=120)
    assert document["status"] == "completed" and document["attempts"] == 2, document
    status = api(gateway, key, "GET", "/captures/status").json()
    assert status["running"] and status["queued"] == 0


def test_a_job_with_headers_and_basic_credentials_completes(gateway: GatewayProcess, key: str, site: JobSite) -> None:
    # What they unlock is tests/gateway/jobs/test_capture_auth_jobs.py's; here they go through a real gateway, for
    # the search below (its log is in the data folder).
    auth = {"headers": {"X-Api-Token": PLANTED_HEADER}, "basic": {"username": "robot", "password": PLANTED_PASSWORD}}
    document = finished(gateway, key, submit(gateway, key, {"url": site.url("/login"), "auth": auth}))
    assert document["status"] == "completed", document
    assert near(colour_of(httpx.get(document["resultUrl"], timeout=30).content), "red")


def test_planted_secrets_are_nowhere(gateway: GatewayProcess, key: str) -> None:
    audit = api(gateway, key, "GET", "/workspaces/shots/audit")
    listed = api(gateway, key, "GET", "/captures?limit=200")
    planted = [PLANTED_TRACER.encode(), STORAGE_TOKEN.encode(), PLANTED_HEADER.encode(), PLANTED_PASSWORD.encode()]
    for answer in (audit, listed):
        assert answer.status_code == 200
        assert not any(value in answer.content for value in planted)
    for path in gateway.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(value in data for value in planted), path.name
    store = SqliteAccountStore(gateway.data_dir / "imgate.sqlite3")
    try:
        jobs = store.capture_jobs.list_jobs("shots", limit=200)
    finally:
        store.close()
    assert jobs and all(job.auth_sealed is None for job in jobs if job.status in ("completed", "failed"))
