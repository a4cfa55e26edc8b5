"""Capture jobs against the plan and the rest of the gateway, without a browser: the monthly captures quota at
submit, the queue in ``/_/health``, the Redis job store chosen by the account store factory (so the ``imgate``
command sees the gateway's jobs), deleting a workspace forgets its jobs there, and what the accounting records."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.accounts.factory import build_account_store
from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.redis_capture_jobs import RedisCaptureJobStore
from gateway.accounts.usage import UsageCounts
from gateway.admin.context import AdminContext
from gateway.admin.workspaces import delete_workspace
from gateway.cache.keys import Kind
from gateway.cache.results import NullResultStore
from gateway.delivery.hooks import Outcome
from gateway.jobs.accounting import JobAccounting
from gateway.settings import load_settings
from gateway.usage.hooks import UsageHooks
from tests.gateway.accounts.capture_jobs_contract import CAPS, _job
from tests.gateway.jobs.asgi import send
from tests.gateway.usage.redis_process import redis_server
from tests.gateway.web.running import call, running

CAPTURES = "/_/api/v1/captures"
PAGE_HOST = "127.0.0.1:8443"
PAGE = f"https://{PAGE_HOST}/"


def _settings(**more: str) -> dict[str, str]:
    return {
        "capture_job_workers": "0",
        "trusted_networks": "127.0.0.1/32",
        "capture_trusted_networks": "127.0.0.1/32",
        **more,
    }


def _store(captures_per_month: int) -> MemoryAccountStore:
    store = MemoryAccountStore()
    store.create_workspace(
        Workspace(
            namespace="acme",
            allowed_capture_domains=(PAGE_HOST,),
            limit_overrides=PlanOverrides(captures_per_month=captures_per_month),
        )
    )
    return store


@pytest.mark.anyio
async def test_a_queued_job_counts_against_the_captures_quota(tmp_path: Path) -> None:
    store = _store(captures_per_month=3)
    # One capture this month already (a ``?capture=`` miss, say), in the usage counters.
    store.usage.add("acme", datetime.now(UTC).date(), UsageCounts(requests=1, captures=1))
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    async with running(tmp_path, store, None, **_settings(limiter="local")) as app:
        statuses = [(await send(app, "POST", CAPTURES, writer, {"url": PAGE})).status for _ in range(2)]
        refused = await send(app, "POST", CAPTURES, writer, {"url": PAGE})
    assert statuses == [202, 202]  # 1 counted + 2 queued = the quota of 3
    assert refused.status == 429, refused.body
    error = json.loads(refused.body)["error"]
    assert error["code"] == "RATE_LIMITED" and "monthly captures quota of 3" in error["message"]
    assert int(refused.header("retry-after") or 0) > 0
    assert store.capture_jobs.unfinished("acme") == 2  # the refused one was not stored


@pytest.mark.anyio
async def test_the_captures_quota_is_off_with_the_limiter(tmp_path: Path) -> None:
    store = _store(captures_per_month=1)
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    async with running(tmp_path, store, None, **_settings()) as app:  # limiter = "off"
        statuses = [(await send(app, "POST", CAPTURES, writer, {"url": PAGE})).status for _ in range(2)]
    assert statuses == [202, 202]


@pytest.mark.anyio
async def test_health_shows_the_queue_and_a_stuck_one(tmp_path: Path) -> None:
    store = _store(captures_per_month=100)
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    async with running(tmp_path, store, None, **_settings()) as app:
        idle = json.loads((await call(app, "/_/health")).body)
        assert (await send(app, "POST", CAPTURES, writer, {"url": PAGE})).status == 202
        await asyncio.sleep(1.1)
        stuck = json.loads((await call(app, "/_/health")).body)
    assert idle["checks"]["capture_jobs"]["status"] == "ok" and idle["checks"]["capture_jobs"]["queued"] == 0
    entry = stuck["checks"]["capture_jobs"]
    # Queued with no worker anywhere (capture_job_workers = 0): the answer to "why is it stuck in queued".
    assert (entry["status"], entry["queued"], entry["workers"], entry["local_workers"]) == ("degraded", 1, 0, 0)
    assert entry["oldest_queued_age"] >= 1
    assert stuck["status"] == "degraded"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def test_the_factory_chooses_the_redis_job_store_and_deleting_a_workspace_forgets_its_jobs(
    tmp_path: Path, redis_url: str
) -> None:
    environ = {
        "IMGATE_DATA_DIR": str(tmp_path),
        "IMGATE_RESULT_STORE": "none",
        "IMGATE_CAPTURE_JOBS_STORE": "redis",
        "IMGATE_REDIS_URL": redis_url,
    }
    settings = load_settings(environ=environ)
    gateway_side, command_side = build_account_store(settings), build_account_store(settings)
    try:
        assert isinstance(gateway_side.capture_jobs, RedisCaptureJobStore)
        gateway_side.create_workspace(Workspace(namespace="acme"))
        gateway_side.create_workspace(Workspace(namespace="other"))
        assert gateway_side.capture_jobs.add(_job(1), **CAPS)
        assert gateway_side.capture_jobs.add(_job(2, "other"), **CAPS)
        # Another process (the ``imgate`` command) reads the same jobs.
        assert command_side.capture_jobs.get(_job(1).job_id) is not None
        ctx = AdminContext.build(settings, command_side, NullResultStore())

        async def delete() -> None:
            await delete_workspace(ctx, "acme")

        asyncio.run(delete())
        assert gateway_side.capture_jobs.get(_job(1).job_id) is None
        assert gateway_side.capture_jobs.unfinished("acme") == 0
        assert gateway_side.capture_jobs.get(_job(2).job_id) is not None
    finally:
        gateway_side.capture_jobs.forget("other")
        gateway_side.close()
        command_side.close()


@pytest.mark.anyio
async def test_the_accounting_counts_a_job_as_a_capture_once_its_workspace_resolves() -> None:
    known: set[str] = set()

    async def resolve(namespace: str) -> object:
        known.add(namespace)
        return namespace

    usage = UsageHooks(known.__contains__)
    accounting = JobAccounting(resolve, usage)
    await accounting.record(Outcome("acme", 200, "miss", None, Kind.CAPTURE, 0, 1.5, "image/png"))
    await accounting.record(Outcome("acme", 200, None, None, Kind.CAPTURE, 4321, 0.01, "image/png"))
    await accounting.record(Outcome("acme", 504, None, "TIMEOUT", Kind.CAPTURE, 0, 15.0))
    counts = usage.take()[("acme", datetime.fromtimestamp(time.time(), UTC).date())]
    assert (counts.requests, counts.captures, counts.renders, counts.bytes_out) == (3, 1, 0, 4321)
    assert counts.errors == {"TIMEOUT": 1}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("gateway_allows", "workspace_allows", "status"),
    [("false", False, 400), ("false", True, 400), ("true", False, 400), ("true", True, 202)],
)
async def test_http_pages_need_the_workspace_setting_within_the_gateways(
    tmp_path: Path, gateway_allows: str, workspace_allows: bool, status: int
) -> None:
    store = MemoryAccountStore()
    store.create_workspace(
        Workspace(namespace="acme", allowed_capture_domains=(PAGE_HOST,), capture_jobs_allow_http=workspace_allows)
    )
    writer, _ = issue_api_key(store, "acme", "Writer", "write")
    async with running(tmp_path, store, None, **_settings(capture_jobs_allow_http=gateway_allows)) as app:
        page = await send(app, "POST", CAPTURES, writer, {"url": f"http://{PAGE_HOST}/"})
        await send(app, "POST", f"{CAPTURES}/webhook-secret", writer)
        hook = await send(app, "POST", CAPTURES, writer, {"url": PAGE, "webhookUrl": f"http://{PAGE_HOST}/hook"})
    assert (page.status, hook.status) == (status, status), (page.body, hook.body)
    if status == 400:
        assert b"only https" in page.body and b"only https" in hook.body


def test_the_workspace_setting_is_stored_and_changed_through_the_cli(tmp_path: Path) -> None:
    from gateway.cli.main import main

    environ = {"IMGATE_DATA_DIR": str(tmp_path), "IMGATE_RESULT_STORE": "none"}
    settings = load_settings(environ=environ)
    store = build_account_store(settings)
    try:
        store.create_workspace(Workspace(namespace="acme"))
    finally:
        store.close()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        assert main(["workspace", "update", "acme", "--capture-jobs-allow-http"]) == 0
    store = build_account_store(settings)  # SQLite: the column round-trips
    try:
        found = store.get_workspace("acme")
        assert found is not None and found.capture_jobs_allow_http is True
    finally:
        store.close()
