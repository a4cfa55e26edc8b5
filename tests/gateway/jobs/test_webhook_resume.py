"""A capture job's webhook survives its process: it is kept in the job (SQLite here, a file two "processes" open
on their own), so a restarted gateway carries on with an undelivered one at its due time, two workers never
both deliver one, and it is given up ``webhook_retry_for`` seconds after the job ended. It follows the workspace
as it is at delivery: an http:// webhook whose allowance (the gateway's or the workspace's) was withdrawn after
submit, or one of a workspace gone or inactive, is ended unsent. Real parts: a loopback HTTP receiver (plain
http, so the gateway and the workspace allow http wherever a test means to deliver), the SQLite store, the
workers' own webhook task (no browser: the jobs are ended as a worker would).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.capture_jobs import CaptureJob, JobResult
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.cache.memory_results import MemoryResultStore
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import pixel_budget
from gateway.jobs.local import StoreQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.spec import JobSpec
from gateway.jobs.webhooks import SIGNATURE_HEADER, WebhookSender, new_secret
from gateway.jobs.workers import CaptureWorkers
from gateway.netguard import NetGuard
from gateway.settings import Settings, load_settings
from gateway.sources.capture import CaptureSource
from tests.gateway.jobs.test_webhooks import Receiver

pytestmark = pytest.mark.anyio

HOST = "127.0.0.1:8443"
KEY = Fernet.generate_key()
SECRET = new_secret()


def _settings(tmp_path: Path, *, allow_http: bool = True) -> Settings:
    environ = {
        "IMGATE_DATA_DIR": str(tmp_path),
        "IMGATE_CAPTURE_JOB_WORKERS": "1",
        "IMGATE_CAPTURE_JOB_POLL": "0.1",
        "IMGATE_CAPTURE_JOBS_ALLOW_HTTP": "true" if allow_http else "false",
    }
    return load_settings(environ=environ)


def _store(tmp_path: Path) -> SqliteAccountStore:
    return SqliteAccountStore(tmp_path / "accounts.sqlite3")


def _prepare(tmp_path: Path, hook: str, jobs: int) -> list[str]:
    """A workspace that allows http, with a webhook secret, and ``jobs`` jobs ended by a worker of a process
    that is gone now: each webhook due, none sent."""
    store = _store(tmp_path)
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,), capture_jobs_allow_http=True))
    store.capture_jobs.set_webhook_secret("acme", SecretBox(KEY).seal(SECRET), time.time())
    queue = StoreQueue(store.capture_jobs, _settings(tmp_path))
    spec = JobSpec(f"https://{HOST}/", "png", (), (("fm", "png"),), 3600, webhook_url=hook)
    ids = []
    for n in range(jobs):
        job = CaptureJob(f"cap_{n:024x}", "acme", f"https://{HOST}/", spec.to_json(), 1000.0 + n)
        assert store.capture_jobs.add(job, max_queued_workspace=50, max_queued_total=50)
        claimed = queue.claim("gone-worker")
        assert claimed is not None
        result = JobResult(f"acme/job/{claimed.job_id}/result", "png", "image/png", 3, 1, 1, time.time() + 3600)
        assert queue.complete(claimed, "gone-worker", result, webhook=True)
        ids.append(claimed.job_id)
    store.close()
    return ids


@asynccontextmanager
async def gateway_process(
    tmp_path: Path, *, retry_for: float, first_backoff: float, allow_http: bool = True
) -> AsyncIterator[None]:
    """One gateway process's capture workers over the shared store file, started, then stopped."""
    settings = _settings(tmp_path, allow_http=allow_http)
    store = _store(tmp_path)
    guard = NetGuard(["127.0.0.1/32"])
    results = MemoryResultStore()
    pool = TransformPool(1, 1)
    runner = JobRunner(CaptureSource(settings, guard), pool, pixel_budget(settings), results, url_ttl=3600)
    sender = WebhookSender(guard, timeout=5, retry_for=retry_for, first_backoff=first_backoff)
    queue = StoreQueue(store.capture_jobs, settings)
    workers = CaptureWorkers(settings, queue, store, runner, results, SecretBox(KEY), sender)
    workers.start()
    try:
        yield
    finally:
        await workers.aclose()
        store.close()


async def until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _job(tmp_path: Path, job_id: str) -> CaptureJob:
    store = _store(tmp_path)
    try:
        job = store.capture_jobs.get(job_id)
    finally:
        store.close()
    assert job is not None
    return job


def _verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in headers[SIGNATURE_HEADER.lower()].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


async def test_a_restarted_process_delivers_the_webhook_the_stopped_one_did_not(tmp_path: Path) -> None:
    receiver = Receiver(failures=1)
    try:
        [job_id] = _prepare(tmp_path, receiver.url + "/hook", 1)
        # Its next attempt 3 s later: the process is stopped well before that.
        async with gateway_process(tmp_path, retry_for=60, first_backoff=3.0):
            await until(lambda: len(receiver.calls) == 1 and _job(tmp_path, job_id).webhook_attempts == 1)
            await until(lambda: (_job(tmp_path, job_id).webhook_due_at or 0) > time.time())
        # Stopped with its webhook undelivered: the next attempt is kept in the job, not in that process.
        pending = _job(tmp_path, job_id)
        assert pending.webhook_due_at is not None and len(receiver.calls) == 1
        async with gateway_process(tmp_path, retry_for=60, first_backoff=1.0):
            await until(lambda: _job(tmp_path, job_id).webhook_due_at is None)
        assert len(receiver.calls) == 2
        _, headers, body = receiver.calls[1]
        assert json.loads(body)["id"] == job_id and _verified(SECRET, headers, body)
        assert _job(tmp_path, job_id).webhook_attempts == 2
    finally:
        receiver.close()


async def test_two_processes_never_both_deliver_one_webhook(tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        ids = _prepare(tmp_path, receiver.url + "/hook", 8)
        async with (
            gateway_process(tmp_path, retry_for=60, first_backoff=1.0),
            gateway_process(tmp_path, retry_for=60, first_backoff=1.0),
        ):
            await until(lambda: all(_job(tmp_path, job_id).webhook_due_at is None for job_id in ids))
            await asyncio.sleep(0.3)  # time for a second delivery, if one were to come
        delivered = sorted(json.loads(body)["id"] for _, _, body in receiver.calls)
        assert delivered == sorted(ids)
    finally:
        receiver.close()


async def test_an_undeliverable_webhook_is_given_up_after_the_retry_time(tmp_path: Path) -> None:
    receiver = Receiver(failures=1000)
    try:
        [job_id] = _prepare(tmp_path, receiver.url + "/hook", 1)
        async with gateway_process(tmp_path, retry_for=2.0, first_backoff=0.2):
            await until(lambda: _job(tmp_path, job_id).webhook_due_at is None)
            calls = len(receiver.calls)
            await asyncio.sleep(0.5)
        # Attempts about 0.2, 0.4 and 0.8 s apart, the next one past the 2 s: given up, and none after.
        assert 2 <= calls <= 6 and len(receiver.calls) == calls
        gaps = [b[0] - a[0] for a, b in zip(receiver.calls, receiver.calls[1:], strict=False)]
        assert all(later > earlier for earlier, later in zip(gaps, gaps[1:], strict=False)), gaps
    finally:
        receiver.close()


def _withdraw_workspace_http(tmp_path: Path) -> None:
    _update_workspace(tmp_path, capture_jobs_allow_http=False)


def _deactivate(tmp_path: Path) -> None:
    _update_workspace(tmp_path, active=False)


def _update_workspace(tmp_path: Path, *, active: bool = True, capture_jobs_allow_http: bool = True) -> None:
    store = _store(tmp_path)
    try:
        workspace = store.get_workspace("acme")
        assert workspace is not None
        store.update_workspace(
            dataclasses.replace(workspace, active=active, capture_jobs_allow_http=capture_jobs_allow_http)
        )
    finally:
        store.close()


def _delete_workspace_row(tmp_path: Path) -> None:
    # The workspace's row alone (this connection does not enforce the foreign keys, so nothing cascades): a
    # deletion through the store takes the jobs and the webhook secret with it, and then there is nothing to
    # send anyway. With both left, only the worker's own look at the workspace keeps the webhook from going out.
    with contextlib.closing(sqlite3.connect(tmp_path / "accounts.sqlite3")) as db, db:
        assert db.execute("DELETE FROM workspaces WHERE namespace = 'acme'").rowcount == 1


@pytest.mark.parametrize(
    ("change", "gateway_allows"),
    [
        (_withdraw_workspace_http, True),
        (None, False),
        (_deactivate, True),
        (_delete_workspace_row, True),
    ],
    ids=["http-withdrawn-by-the-workspace", "http-withdrawn-by-the-gateway", "workspace-inactive", "workspace-gone"],
)
async def test_a_webhook_the_workspace_no_longer_allows_is_ended_unsent(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    change: Callable[[Path], None] | None,
    gateway_allows: bool,
) -> None:
    receiver = Receiver()
    try:
        # Submitted while http was allowed; changed before the delivery.
        [job_id] = _prepare(tmp_path, receiver.url + "/hook", 1)
        if change is not None:
            change(tmp_path)
        with caplog.at_level(logging.INFO):
            async with gateway_process(tmp_path, retry_for=60, first_backoff=0.2, allow_http=gateway_allows):
                await until(lambda: _job(tmp_path, job_id).webhook_due_at is None)
                await asyncio.sleep(0.5)  # time for a retry, if one were to come
        # Ended after the one look, not retried, and nothing reached the receiver.
        assert receiver.calls == [] and _job(tmp_path, job_id).webhook_attempts == 1
        ours = [r.getMessage() for r in caplog.records if r.name.startswith(("imgate", "gateway"))]
        assert [line for line in ours if "webhook was not sent" in line], ours
        named = ("127.0.0.1", receiver.url.rsplit(":", 1)[1], "/hook", "acme", job_id)
        assert not [line for line in ours if any(part in line for part in named)], ours
    finally:
        receiver.close()


async def test_a_webhook_the_workspace_still_allows_over_http_is_delivered(tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        [job_id] = _prepare(tmp_path, receiver.url + "/hook", 1)
        _update_workspace(tmp_path, capture_jobs_allow_http=True)  # saved again, the allowance unchanged
        async with gateway_process(tmp_path, retry_for=60, first_backoff=0.2, allow_http=True):
            await until(lambda: _job(tmp_path, job_id).webhook_due_at is None)
        assert [json.loads(body)["id"] for _, _, body in receiver.calls] == [job_id]
    finally:
        receiver.close()
