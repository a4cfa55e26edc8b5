"""A HEAD on a retention-0 result answers the GET's headers and leaves its one download: the GET after it gets
the bytes, and the ones after that the stable 410 GONE. The job is completed through the store as a worker
would (no browser here), its result written to the same disk result store the gateway reads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gateway.accounts.capture_jobs import JobResult
from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.cache.disk import DiskResultStore
from gateway.cache.results import CachedResult
from gateway.jobs.runner import result_key
from tests.gateway.jobs.asgi import send
from tests.gateway.web.running import Sent, call, running

pytestmark = pytest.mark.anyio

CAPTURES = "/_/api/v1/captures"
PAGE_HOST = "127.0.0.1:8443"
SHOT = b"\x89PNG\r\n\x1a\n" + b"pretend-pixels" * 100


def gateway_parts(tmp_path: Path) -> tuple[MemoryAccountStore, Path]:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(PAGE_HOST,)))
    return store, tmp_path / "results"


def settings(results: Path) -> dict[str, str]:
    return {
        "capture_job_workers": "0",
        "trusted_networks": "127.0.0.1/32",
        "capture_trusted_networks": "127.0.0.1/32",
        "result_store": "disk",
        "result_store_dir": str(results),
    }


async def completed(app: object, store: MemoryAccountStore, results: Path, retention: int) -> str:
    """Submit a job, finish it as a worker would, and return its signed result path and query."""
    writer, _ = issue_api_key(store, "acme", f"Writer {retention}", "write")
    queued = await send(app, "POST", CAPTURES, writer, {"url": f"https://{PAGE_HOST}/", "retention": retention})
    assert queued.status == 202, queued.body
    now = time.time()
    job = store.capture_jobs.claim("worker-1", now=now, lease=60, max_attempts=2)
    assert job is not None and job.job_id == json.loads(queued.body)["id"]
    key = result_key(job)
    disk = DiskResultStore(results, 64 * 1024 * 1024)
    await disk.put(key, CachedResult(data=SHOT, content_type="image/png", created_at=now, expires_at=now + 600))
    await disk.aclose()
    result = JobResult(key, "png", "image/png", len(SHOT), 10, 10, now + 600)
    assert store.capture_jobs.complete(job.job_id, "worker-1", result, now)
    document = await send(app, "GET", f"{CAPTURES}/{job.job_id}", writer)
    url = json.loads(document.body)["resultUrl"]
    assert isinstance(url, str) and url, document.body
    return url


async def fetch(app: object, url: str, method: str) -> Sent:
    parts = urlsplit(url)
    return await call(app, parts.path, parts.query.encode(), method=method)


def gone(sent: Sent) -> bool:
    return sent.status == 410 and json.loads(sent.body)["error"]["code"] == "GONE"


async def test_head_leaves_a_retention_0_result_to_its_one_get(tmp_path: Path) -> None:
    store, results = gateway_parts(tmp_path)
    async with running(tmp_path, store, None, **settings(results)) as app:
        url = await completed(app, store, results, retention=0)
        heads = [await fetch(app, url, "HEAD") for _ in range(2)]
        got = await fetch(app, url, "GET")
        head_after = await fetch(app, url, "HEAD")
        get_after = await fetch(app, url, "GET")
    for head in heads:
        assert head.status == 200 and head.body == b""
        assert head.header("content-length") == str(len(SHOT))
        assert head.header("content-type") == "image/png"
        assert head.header("cache-control") == "private, no-store"
    assert got.status == 200 and got.body == SHOT
    assert [(name, value) for name, value in got.headers if name != b"content-length"] == [
        (name, value) for name, value in heads[0].headers if name != b"content-length"
    ]
    assert head_after.status == 410 and head_after.body == b"" and gone(get_after)


async def test_head_and_get_of_a_kept_result_do_not_use_it_up(tmp_path: Path) -> None:
    store, results = gateway_parts(tmp_path)
    async with running(tmp_path, store, None, **settings(results)) as app:
        url = await completed(app, store, results, retention=3600)
        sent = [await fetch(app, url, method) for method in ("HEAD", "GET", "HEAD", "GET")]
    assert [s.status for s in sent] == [200, 200, 200, 200]
    assert sent[1].body == sent[3].body == SHOT and sent[0].body == sent[2].body == b""
