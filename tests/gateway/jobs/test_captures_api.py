"""The capture jobs API without a browser: what a submission is refused for, the depth caps, polling, listing,
the status, the webhook secret and result URLs. No job worker runs here (``capture_job_workers = 0``), so the
jobs stay queued; the whole lifecycle with real Chromium is in test_capture_jobs.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from tests.gateway.jobs.asgi import send
from tests.gateway.web.running import call, running

pytestmark = pytest.mark.anyio

CAPTURES = "/_/api/v1/captures"
PLANTED = "planted-cookie-value-7f3a"
# A literal address (the sandbox resolves no names) that both guards trust here; nothing listens on it.
PAGE_HOST = "127.0.0.1:8443"
PAGE = f"https://{PAGE_HOST}/"


@pytest.fixture
def store() -> MemoryAccountStore:
    store = MemoryAccountStore()
    store.create_workspace(
        Workspace(namespace="acme", allowed_capture_domains=(PAGE_HOST, "example.com", "*.example.com"))
    )
    store.create_workspace(
        Workspace(
            namespace="off",
            allowed_capture_domains=(PAGE_HOST, "127.0.0.1:9443"),
            disabled_capture_domains=("127.0.0.1:9443",),
        )
    )
    return store


def _settings(**more: str) -> dict[str, str]:
    return {
        "capture_job_workers": "0",
        "capture_jobs_max_queued_per_workspace": "3",
        "trusted_networks": "127.0.0.1/32",
        "capture_trusted_networks": "127.0.0.1/32",
        **more,
    }


async def test_a_submission_is_queued_and_polled(tmp_path: Path, store: MemoryAccountStore) -> None:
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    reader, _ = issue_api_key(store, "acme", "Reader")
    body = {
        "url": PAGE + "account",
        "output": {"format": "webp", "viewport": {"width": 800, "height": 600}, "transform": {"w": "400"}},
        "auth": {
            "cookies": [{"name": "session", "value": PLANTED}],
            "localStorage": {"token": PLANTED},
            "headers": {"X-Api-Token": PLANTED},
            "basic": {"username": "robot", "password": PLANTED},
        },
    }
    async with running(tmp_path, store, None, **_settings()) as app:
        queued = await send(app, "POST", CAPTURES, writer, body)
        assert queued.status == 202, queued.body
        answer = json.loads(queued.body)
        assert answer["status"] == "queued" and answer["id"].startswith("cap_")
        assert queued.header("location") == f"{CAPTURES}/{answer['id']}"
        polled = await send(app, "GET", f"{CAPTURES}/{answer['id']}", reader)
        listed = await send(app, "GET", CAPTURES, reader)
        status = await send(app, "GET", f"{CAPTURES}/status", reader)
        refused = await send(app, "POST", CAPTURES, reader, body)
        audit = await send(app, "GET", "/_/api/v1/workspaces/acme/audit", reader)
    assert polled.status == 200
    document = json.loads(polled.body)
    assert (document["status"], document["format"], document["url"]) == ("queued", "webp", body["url"])
    assert document["resultUrl"] is None and document["error"] is None
    assert [job["id"] for job in json.loads(listed.body)["captures"]] == [answer["id"]]
    stats = json.loads(status.body)
    assert (stats["queued"], stats["workers"], stats["running"]) == (1, 0, False)
    assert stats["oldestQueuedAge"] >= 0
    assert refused.status == 403 and b"FORBIDDEN" in refused.body  # a read key cannot submit
    # The planted secret is sealed in the store, and shown nowhere.
    job = store.capture_jobs.get(answer["id"])
    assert job is not None and job.auth_sealed and PLANTED not in job.auth_sealed and PLANTED not in job.spec
    for sent in (queued, polled, listed, audit):
        assert PLANTED.encode() not in sent.body
    assert audit.status == 200 and b"/_/api/v1/captures" in audit.body


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"url": f"http://{PAGE_HOST}/"}, 400, b"only https"),
        ({"url": "https://127.0.0.1:9999/"}, 403, b"DOMAIN_NOT_ALLOWED"),
        ({"url": "file:///etc/passwd"}, 400, b"VALIDATION_ERROR"),
        ({"url": "https://169.254.169.254/"}, 403, b"DOMAIN_NOT_ALLOWED"),
        ({"output": {"format": "gif"}}, 400, b"output"),
        ({"output": {"format": "pdf", "fullPage": True}}, 400, b"fullPage"),
        ({"output": {"format": "png", "transform": {"fm": "jpg"}}}, 400, b"output.transform"),
        ({"output": {"format": "png", "transform": {"nope": "1"}}}, 400, b"nope"),
        ({"hide": ["a{color:red}"]}, 400, b"hide"),
        ({"actions": [{"type": "click", "selector": "#a"}] * 21}, 400, b"actions"),
        ({"actions": [{"type": "type", "selector": "#a"}]}, 400, b"actions[0].text"),
        ({"actions": [{"type": "click", "selector": "a{b}"}]}, 400, b"actions[0].selector"),
        ({"actions": [{"type": "click", "selector": "#a"}], "wait": "#b"}, 400, b"with actions"),
        ({"actions": [{"type": "hover", "selector": "#a"}]}, 400, b"VALIDATION_ERROR"),
        ({"retention": 10**9}, 400, b"retention"),
        ({"auth": {"headers": {"Proxy-Authorization": PLANTED}}}, 400, b"auth.headers.Proxy-Authorization"),
        ({"auth": {"headers": {"Host": "internal"}}}, 400, b"auth.headers.Host"),
        ({"auth": {"headers": {"X-Token": PLANTED + "\r\n"}}}, 400, b"auth.headers.X-Token"),
        ({"auth": {"headers": {f"X-{n}": PLANTED for n in range(21)}}}, 400, b"auth.headers"),
        ({"auth": {"basic": {"username": "u:v", "password": PLANTED}}}, 400, b"auth.basic.username"),
        ({"auth": {"cookies": [{"name": "s", "value": PLANTED, "domain": "attacker.test"}]}}, 400, b"domain"),
        ({"auth": {"cookies": [{"name": "s", "value": "a;b"}]}}, 400, b"value"),
        ({"webhookUrl": PAGE + "hook"}, 400, b"webhook secret"),
        ({"unknown": 1}, 400, b"VALIDATION_ERROR"),
    ],
)
async def test_refusals_name_the_field_and_never_echo_secrets(
    tmp_path: Path, store: MemoryAccountStore, change: dict[str, Any], status: int, needle: bytes
) -> None:
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    async with running(tmp_path, store, None, **_settings()) as app:
        sent = await send(app, "POST", CAPTURES, writer, {"url": PAGE, **change})
    assert sent.status == status, sent.body
    assert needle in sent.body
    assert PLANTED.encode() not in sent.body
    assert json.loads(sent.body)["error"]["code"]
    assert store.capture_jobs.list_jobs("acme", limit=10) == []


async def test_a_domain_cookie_is_allowed_only_when_every_subdomain_is(
    tmp_path: Path, store: MemoryAccountStore
) -> None:
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    cookie = {"name": "s", "value": "v", "domain": "example.com"}
    async with running(tmp_path, store, None, **_settings()) as app:
        sent = await send(app, "POST", CAPTURES, writer, {"url": PAGE, "auth": {"cookies": [cookie]}})
    assert sent.status == 202, sent.body


async def test_a_disabled_capture_domain_blocks_new_jobs(tmp_path: Path, store: MemoryAccountStore) -> None:
    writer, _ = issue_api_key(store, "off", "Writer", "write")
    async with running(tmp_path, store, None, **_settings()) as app:
        disabled = await send(app, "POST", CAPTURES, writer, {"url": "https://127.0.0.1:9443/"})
        enabled = await send(app, "POST", CAPTURES, writer, {"url": PAGE})
    assert disabled.status == 403 and json.loads(disabled.body)["error"]["code"] == "DOMAIN_NOT_ALLOWED"
    assert enabled.status == 202


async def test_depth_caps_answer_overloaded(tmp_path: Path, store: MemoryAccountStore) -> None:
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    other, _ = issue_api_key(store, "off", "Writer", "write")
    async with running(tmp_path, store, None, **_settings(capture_jobs_max_queued="4")) as app:
        answers = [(await send(app, "POST", CAPTURES, writer, {"url": PAGE})).status for _ in range(4)]
        others = [(await send(app, "POST", CAPTURES, other, {"url": PAGE})).status for _ in range(2)]
        full = await send(app, "POST", CAPTURES, other, {"url": PAGE})
    assert answers == [202, 202, 202, 503]  # the workspace's cap: 3
    assert others == [202, 503]  # the gateway's cap: 4 in all
    assert json.loads(full.body)["error"]["code"] == "OVERLOADED" and full.header("retry-after")


async def test_paging_and_other_workspaces(tmp_path: Path, store: MemoryAccountStore) -> None:
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    other, _ = issue_api_key(store, "off", "Reader")
    async with running(tmp_path, store, None, **_settings(capture_jobs_max_queued_per_workspace="10")) as app:
        ids = [json.loads((await send(app, "POST", CAPTURES, writer, {"url": PAGE})).body)["id"] for _ in range(3)]
        first = json.loads((await send(app, "GET", CAPTURES, writer, query=b"limit=2")).body)
        cursor = first["next_cursor"].encode()
        rest = json.loads((await send(app, "GET", CAPTURES, writer, query=b"limit=2&cursor=" + cursor)).body)
        foreign = await send(app, "GET", f"{CAPTURES}/{ids[0]}", other)
        unknown = await send(app, "GET", f"{CAPTURES}/cap_{'0' * 24}", writer)
    assert [job["id"] for job in first["captures"] + rest["captures"]] == ids[::-1]
    assert rest["next_cursor"] is None
    assert foreign.status == 404 and unknown.status == 404


async def test_the_webhook_secret_is_shown_once_and_rotates(tmp_path: Path, store: MemoryAccountStore) -> None:
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    async with running(tmp_path, store, None, **_settings()) as app:
        first = await send(app, "POST", f"{CAPTURES}/webhook-secret", writer)
        second = await send(app, "POST", f"{CAPTURES}/webhook-secret", writer)
    one, two = json.loads(first.body)["secret"], json.loads(second.body)["secret"]
    assert first.status == 201 and one.startswith("whsec_") and one != two
    sealed = store.capture_jobs.webhook_secret("acme")
    assert sealed is not None and two not in sealed


async def test_result_urls_refuse_bad_signatures(tmp_path: Path, store: MemoryAccountStore) -> None:
    async with running(tmp_path, store, None, **_settings()) as app:
        unsigned = await call(app, f"/_/results/cap_{'0' * 24}")
        forged = await call(app, f"/_/results/cap_{'0' * 24}", b"exp=9999999999&sig=" + b"0" * 64)
        garbage = await call(app, "/_/results/../etc", b"exp=1&sig=x")
        posted = await call(app, f"/_/results/cap_{'0' * 24}", method="POST")
    for sent in (unsigned, forged, garbage):
        assert sent.status in (403, 404), sent.body
        assert json.loads(sent.body)["error"]["code"] in ("BAD_SIGNATURE", "NOT_FOUND")
    assert unsigned.status == 403 and forged.status == 403
    assert posted.status == 405
