"""The job worker's own checks, without a browser: a job whose capture domain was switched off after it was
queued, or whose http:// page the gateway or the workspace no longer allows, fails with DOMAIN_NOT_ALLOWED (and
its sealed secrets are deleted) instead of being captured; the sweeper deletes results at their retention end."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.capture_jobs import CaptureJob, JobResult
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.cache.memory_results import MemoryResultStore
from gateway.cache.results import CachedResult
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import pixel_budget
from gateway.jobs.local import StoreQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.spec import JobSpec
from gateway.jobs.webhooks import WebhookSender
from gateway.jobs.workers import CaptureWorkers
from gateway.netguard import NetGuard
from gateway.settings import load_settings
from gateway.sources.capture import CaptureSource

pytestmark = pytest.mark.anyio

HOST = "127.0.0.1:8443"


def _workers(tmp_path: Path, store: MemoryAccountStore, results: MemoryResultStore, **environ: str) -> CaptureWorkers:
    settings = load_settings(environ={"IMGATE_DATA_DIR": str(tmp_path), **environ})
    guard = NetGuard()
    pool = TransformPool(1, 1)
    runner = JobRunner(CaptureSource(settings, guard), pool, pixel_budget(settings), results, url_ttl=3600)
    secrets = SecretBox(Fernet.generate_key())
    return CaptureWorkers(
        settings,
        StoreQueue(store.capture_jobs, settings),
        store,
        runner,
        results,
        secrets,
        WebhookSender(guard, timeout=1, retry_for=1),
    )


async def test_a_domain_switched_off_after_submit_is_not_captured(tmp_path: Path) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,)))
    spec = JobSpec(f"https://{HOST}/", "png", (), (("fm", "png"),), 3600)
    job = CaptureJob(f"cap_{1:024x}", "acme", f"https://{HOST}/", spec.to_json(), 1000.0, auth_sealed="sealed")
    assert store.capture_jobs.add(job, max_queued_workspace=5, max_queued_total=5)
    workspace = store.get_workspace("acme")
    assert workspace is not None
    store.update_workspace(dataclasses.replace(workspace, disabled_capture_domains=(HOST,)))
    workers = _workers(tmp_path, store, MemoryResultStore())
    claimed = store.capture_jobs.claim("w1", now=2000, lease=60, max_attempts=2)
    assert claimed is not None
    await workers._run("w1", claimed)
    failed = store.capture_jobs.get(job.job_id)
    assert failed is not None
    assert (failed.status, failed.error_code, failed.auth_sealed) == ("failed", "DOMAIN_NOT_ALLOWED", None)
    assert workers.failed == 1 and workers.completed == 0


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
    url = f"http://{HOST}/"
    spec = JobSpec(url, "png", (), (("fm", "png"),), 3600)
    job = CaptureJob(f"cap_{2:024x}", "acme", url, spec.to_json(), 1000.0, auth_sealed="sealed")
    assert store.capture_jobs.add(job, max_queued_workspace=5, max_queued_total=5)
    # Submitted while both allowed http; one of them no longer does when the job runs.
    workspace = store.get_workspace("acme")
    assert workspace is not None
    store.update_workspace(dataclasses.replace(workspace, capture_jobs_allow_http=workspace_allows))
    workers = _workers(tmp_path, store, MemoryResultStore(), IMGATE_CAPTURE_JOBS_ALLOW_HTTP=gateway_allows)
    claimed = store.capture_jobs.claim("w1", now=2000, lease=60, max_attempts=2)
    assert claimed is not None
    await workers._run("w1", claimed)
    failed = store.capture_jobs.get(job.job_id)
    assert failed is not None
    assert (failed.status, failed.error_code, failed.auth_sealed) == ("failed", "DOMAIN_NOT_ALLOWED", None)
    assert "http://" in (failed.error_message or "")
    assert workers.failed == 1 and workers.completed == 0


async def test_an_http_page_still_allowed_by_both_is_let_through(tmp_path: Path) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme", allowed_capture_domains=(HOST,), capture_jobs_allow_http=True))
    url = f"http://{HOST}/"
    job = CaptureJob(f"cap_{3:024x}", "acme", url, JobSpec(url, "png", (), (), 3600).to_json(), 1000.0)
    workers = _workers(tmp_path, store, MemoryResultStore(), IMGATE_CAPTURE_JOBS_ALLOW_HTTP="true")
    assert workers._check_still_allowed(job).namespace == "acme"


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
