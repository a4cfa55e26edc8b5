"""The job worker's own checks, without a browser: a job whose capture domain was switched off after it was
queued fails with DOMAIN_NOT_ALLOWED, one whose http:// page the gateway or the workspace no longer allows with
HTTP_NOT_ALLOWED (its sealed secrets deleted either way) instead of being captured, while an http job both still
allow reaches the runner with its plain http kept; the sweeper deletes results at their retention end."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.capture_jobs import CaptureJob, JobResult
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.cache.memory_results import MemoryResultStore
from gateway.cache.results import CachedResult
from gateway.capture.interception import NetworkAuth
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import pixel_budget
from gateway.jobs.local import StoreQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.scope import CaptureScope
from gateway.jobs.spec import JobAuth, JobSpec
from gateway.jobs.webhooks import WebhookSender
from gateway.jobs.workers import CaptureWorkers
from gateway.netguard import NetGuard
from gateway.settings import load_settings
from gateway.sources.capture import CaptureSource

pytestmark = pytest.mark.anyio

HOST = "127.0.0.1:8443"
SECRETS = SecretBox(Fernet.generate_key())
TOKEN = "http-kept-token-7c2e"


class _HandedOver(JobRunner):
    """The gateway's runner, noting the auth each job is handed to it with before running it."""

    def __init__(self, handed: list[JobAuth], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handed = handed

    async def run(self, job: CaptureJob, auth: JobAuth, *, dedicated_browsers: int = 0) -> JobResult:
        self._handed.append(auth)
        return await super().run(job, auth, dedicated_browsers=dedicated_browsers)


def _workers(
    tmp_path: Path,
    store: MemoryAccountStore,
    results: MemoryResultStore,
    handed: list[JobAuth] | None = None,
    **environ: str,
) -> CaptureWorkers:
    settings = load_settings(environ={"IMGATE_DATA_DIR": str(tmp_path), **environ})
    guard = NetGuard()
    pool = TransformPool(1, 1)
    capture = CaptureSource(settings, guard)
    runner = _HandedOver([] if handed is None else handed, capture, pool, pixel_budget(settings), results, url_ttl=3600)
    return CaptureWorkers(
        settings,
        StoreQueue(store.capture_jobs, settings),
        store,
        runner,
        results,
        SECRETS,
        WebhookSender(guard, timeout=1, retry_for=1),
    )


def _queued_job(store: MemoryAccountStore, n: int, url: str, auth_sealed: str = "sealed") -> CaptureJob:
    """Job ``n`` of workspace acme for ``url``, queued; its auth as ``auth_sealed`` (never opened when refused)."""
    spec = JobSpec(url, "png", (), (("fm", "png"),), 3600)
    job = CaptureJob(f"cap_{n:024x}", "acme", url, spec.to_json(), 1000.0, auth_sealed=auth_sealed)
    assert store.capture_jobs.add(job, max_queued_workspace=5, max_queued_total=5)
    return job


def _change_workspace(store: MemoryAccountStore, **changes: Any) -> None:
    """What the workspace's owner changes while the job waits."""
    workspace = store.get_workspace("acme")
    assert workspace is not None
    store.update_workspace(dataclasses.replace(workspace, **changes))


async def _claimed_and_run(store: MemoryAccountStore, workers: CaptureWorkers, job: CaptureJob) -> CaptureJob:
    """``job`` claimed and run by a worker, as the worker's loop does; the job as it ended."""
    claimed = store.capture_jobs.claim("w1", now=2000, lease=60, max_attempts=2)
    assert claimed is not None and claimed.job_id == job.job_id
    await workers._run("w1", claimed)
    ended = store.capture_jobs.get(job.job_id)
    assert ended is not None
    return ended


async def test_a_domain_switched_off_after_submit_is_not_captured(tmp_path: Path) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,)))
    job = _queued_job(store, 1, f"https://{HOST}/")
    _change_workspace(store, disabled_capture_domains=(HOST,))
    handed: list[JobAuth] = []
    workers = _workers(tmp_path, store, MemoryResultStore(), handed)
    failed = await _claimed_and_run(store, workers, job)
    assert (failed.status, failed.error_code, failed.auth_sealed) == ("failed", "DOMAIN_NOT_ALLOWED", None)
    assert workers.failed == 1 and workers.completed == 0 and handed == []


@pytest.mark.parametrize(
    ("gateway_allows", "workspace_allows"),
    [("false", True), ("true", False)],
    ids=["by-the-gateway", "by-the-workspace"],
)
async def test_an_http_page_is_not_captured_once_http_was_switched_off_after_submit(
    tmp_path: Path, gateway_allows: str, workspace_allows: bool
) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,), capture_jobs_allow_http=True))
    job = _queued_job(store, 2, f"http://{HOST}/")
    # Submitted while both allowed http; one of them no longer does when the job runs.
    _change_workspace(store, capture_jobs_allow_http=workspace_allows)
    handed: list[JobAuth] = []
    workers = _workers(tmp_path, store, MemoryResultStore(), handed, IMGATE_CAPTURE_JOBS_ALLOW_HTTP=gateway_allows)
    failed = await _claimed_and_run(store, workers, job)
    # Its own code: the domain is still allowed, only plain http is not.
    assert (failed.status, failed.error_code, failed.auth_sealed) == ("failed", "HTTP_NOT_ALLOWED", None)
    assert "http://" in (failed.error_message or "")
    assert workers.failed == 1 and workers.completed == 0 and handed == []


async def test_an_http_page_still_allowed_by_both_is_handed_to_the_runner_with_plain_http_kept(
    tmp_path: Path,
) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,), capture_jobs_allow_http=True))
    # As submit seals an http job's header: it may travel over plain http to the page's capture domain.
    network = NetworkAuth((("X-Token", TOKEN),), None, CaptureScope((HOST,), (), plain_http=True))
    job = _queued_job(store, 3, f"http://{HOST}/", JobAuth(network=network).seal(SECRETS))
    handed: list[JobAuth] = []
    # No browser here: with captures off the runner fails the job at the capture itself, past every check.
    workers = _workers(
        tmp_path,
        store,
        MemoryResultStore(),
        handed,
        IMGATE_CAPTURE_JOBS_ALLOW_HTTP="true",
        IMGATE_CAPTURE_ENABLED="false",
    )
    ended = await _claimed_and_run(store, workers, job)
    assert (ended.status, ended.error_code, ended.auth_sealed) == ("failed", "CAPTURE_UNAVAILABLE", None)
    [auth] = handed
    assert auth.network.headers == (("X-Token", TOKEN),)
    assert auth.network.admits(f"http://{HOST}/app.js") and auth.network.admits(f"https://{HOST}/app.js")


async def test_the_sweeper_deletes_results_at_retention_end(tmp_path: Path) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,)))
    results = MemoryResultStore()
    spec = JobSpec(f"https://{HOST}/", "png", (), (("fm", "png"),), 1)
    for n, expires in ((1, 10.0), (2, 4_000_000_000.0)):
        job = CaptureJob(f"cap_{n:024x}", "acme", f"https://{HOST}/", spec.to_json(), 1.0)
        store.capture_jobs.add(job, max_queued_workspace=5, max_queued_total=5)
        claimed = store.capture_jobs.claim("w1", now=2, lease=60, max_attempts=2)
        assert claimed is not None
        key = f"acme/job/{job.job_id}/result"
        await results.put(key, CachedResult(data=b"png", content_type="image/png", created_at=1, expires_at=expires))
        store.capture_jobs.complete(job.job_id, "w1", JobResult(key, "png", "image/png", 3, 1, 1, expires), 3)
    workers = _workers(tmp_path, store, results)
    assert await workers.sweep() == 1
    gone, kept = store.capture_jobs.get(f"cap_{1:024x}"), store.capture_jobs.get(f"cap_{2:024x}")
    assert gone is not None and gone.result_deleted_at is not None
    assert kept is not None and kept.result_deleted_at is None
    assert await results.get(f"acme/job/{kept.job_id}/result") is not None
