"""Dedicated rendering on both ways into a capture: a capture job runs in the workspace's own pool (its plan read
when the job runs, waiting for room where a URL would be refused), and a ``?capture=`` URL of a real gateway does
too, which ``/_/health`` counts (no namespace; jobs waiting for room too) and ``…/captures/status`` reports to the
workspace itself (how many of its captures its pool runs or queues too), both as the running capture service
holds them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
from cryptography.fernet import Fernet

from gateway.accounts.capture_jobs import CaptureJob
from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.admin.captures import capture_status
from gateway.cache.memory_results import MemoryResultStore
from gateway.capture import CaptureOptions
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import pixel_budget
from gateway.jobs.local import StoreQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.spec import JobSpec
from gateway.jobs.webhooks import WebhookSender
from gateway.jobs.workers import CaptureWorkers
from gateway.netguard import NetGuard
from gateway.routes.api.runtime import ApiRuntime
from gateway.services import build_services
from gateway.settings import CaptureSettings, Settings
from gateway.sources.capture import CaptureSource
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import TestSite, eventually
from tests.integration.servers import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def host_of(site: TestSite) -> str:
    return site.origin.removeprefix("http://")


def parts(tmp_path: Path, site: TestSite, plans: dict[str, str], **capture: Any) -> tuple[Settings, MemoryAccountStore]:
    """Settings whose pages may reach ``site`` (browsers required), and a store with a workspace per plan given."""
    require_browser()
    given = CaptureSettings(trusted_networks=("127.0.0.1/32",), **capture)
    settings = Settings(data_dir=str(tmp_path), capture=given, capture_jobs_allow_http=True)
    store = MemoryAccountStore()
    for namespace, plan in plans.items():
        store.create_workspace(
            Workspace(
                namespace=namespace, plan=plan, allowed_capture_domains=(host_of(site),), capture_jobs_allow_http=True
            )
        )
    return settings, store


def job_workers(settings: Settings, store: MemoryAccountStore, source: CaptureSource) -> CaptureWorkers:
    """The workers of a gateway process, over ``store``'s queue and ``source``'s browsers; none started."""
    results = MemoryResultStore()
    runner = JobRunner(source, TransformPool(1, 1), pixel_budget(settings), results, url_ttl=3600)
    sender = WebhookSender(NetGuard(), timeout=1, retry_for=1)
    queue = StoreQueue(store.capture_jobs, settings)
    return CaptureWorkers(settings, queue, store, runner, results, SecretBox(Fernet.generate_key()), sender)


async def run_job(workers: CaptureWorkers, store: MemoryAccountStore, number: int, namespace: str, url: str) -> str:
    """Queue one job, claim it and run it as a worker does; its status after."""
    spec = JobSpec(url, "png", (), (("fm", "png"),), 3600)
    job = CaptureJob(f"cap_{number:024x}", namespace, spec.url, spec.to_json(), float(number))
    assert store.capture_jobs.add(job, max_queued_workspace=5, max_queued_total=5)
    claimed = store.capture_jobs.claim("w1", now=10.0 + number, lease=60, max_attempts=2)
    assert claimed is not None and claimed.job_id == job.job_id
    await workers._run("w1", claimed)  # noqa: SLF001 - one job, run as a worker runs it
    done = store.capture_jobs.get(job.job_id)
    assert done is not None
    return done.status


@pytest.mark.anyio
async def test_a_capture_job_runs_in_the_workspace_s_own_pool(tmp_path: Path, site: TestSite) -> None:
    settings, store = parts(tmp_path, site, {"solo": "enterprise", "shared": "pro"}, timeout=10)
    source = CaptureSource(settings, NetGuard())
    workers = job_workers(settings, store, source)
    try:
        for number, namespace in enumerate(("solo", "shared", "solo"), start=1):
            assert await run_job(workers, store, number, namespace, site.url("/simple.html")) == "completed"
        service = source.service
        assert service is not None
        (own,), (common,) = service.browsers("solo"), service.browsers()
        assert own is not common and own.captures == 2 and common.captures == 1
    finally:
        await workers.aclose()
        await source.aclose()


@pytest.mark.anyio
async def test_a_job_waits_for_a_dedicated_pool_when_every_one_is_busy(tmp_path: Path, site: TestSite) -> None:
    settings, store = parts(tmp_path, site, {"solo": "enterprise", "busy": "enterprise"}, timeout=40, dedicated_pools=1)
    # The gateway's own services: /_/health and the status report the pools their capture source runs.
    services = build_services(settings, store)
    ctx = ApiRuntime.build(services).ctx
    source = services.capture
    workers = job_workers(settings, store, source)

    async def waiting() -> object:
        _, checks = await services.health()
        return checks["capture"]["dedicated_waiting"]

    try:
        site.rearm()
        # The one dedicated pool this process may run is another workspace's, busy with a page that hangs.
        options = CaptureOptions()
        held = asyncio.ensure_future(
            source.fetch(site.url("/hold"), options, False, namespace="busy", dedicated_browsers=1)
        )
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 30)
            assert await waiting() == 0
            job = asyncio.ensure_future(run_job(workers, store, 1, "solo", site.url("/simple.html")))
            service = source.service
            assert service is not None
            # Waiting for room, where a capture URL would be 503 at once; not failed.
            assert await eventually(lambda: service.dedicated_waiting == 1, 30)
            assert not job.done()
            assert await waiting() == 1
            # The busy pool is the other workspace's: its capture runs there, none of the waiting job's.
            assert (await capture_status(ctx, "busy")).dedicated_pool_busy == 1
            assert (await capture_status(ctx, "solo")).dedicated_pool_busy == 0
        finally:
            site.release()
            await held
        with anyio.fail_after(60):
            assert await job == "completed"
        (own,), (common,) = service.browsers("solo"), service.browsers()
        assert own.captures == 1 and common.captures == 0
        assert await waiting() == 0 and (await capture_status(ctx, "solo")).dedicated_pool_busy == 0
    finally:
        await workers.aclose()
        await services.aclose()


@pytest.mark.anyio
async def test_health_and_status_ask_the_service_that_runs_the_pools(tmp_path: Path, site: TestSite) -> None:
    settings, store = parts(tmp_path, site, {"solo": "enterprise", "shared": "pro"}, timeout=20)
    services = build_services(settings, store)
    ctx = ApiRuntime.build(services).ctx
    # Another capture service in the same process (as a test suite, or a source started again, has): its pools
    # are none of the gateway's.
    other = CaptureSource(settings, NetGuard())
    page = site.url("/simple.html")
    try:
        assert (await capture_status(ctx, "solo")).dedicated_pool_running is False
        for source in (services.capture, other):
            await source.fetch(page, CaptureOptions(), False, namespace="solo", dedicated_browsers=1)
        _, checks = await services.health()
        # (The shared pool's "browsers" are the process's record still, which counts both services' here.)
        shown = checks["capture"]
        assert (shown["dedicated_pools"], shown["dedicated_browsers"]) == (1, 1)
        await other.aclose()
        status = await capture_status(ctx, "solo")
        assert (status.dedicated_browsers, status.dedicated_pool_running) == (1, True)
        status = await capture_status(ctx, "shared")
        assert (status.dedicated_browsers, status.dedicated_pool_running) == (0, False)
    finally:
        await other.aclose()
        await services.aclose()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, site: TestSite) -> Iterator[GatewayProcess]:
    require_browser()
    gw = GatewayProcess(
        tmp_path_factory.mktemp("dedicated"),
        trusted_networks="127.0.0.1/32",
        capture_trusted_networks="127.0.0.1/32",
        capture_timeout="15",
        capture_job_workers="0",
    )
    for namespace, plan in (("solo", "enterprise"), ("shared", "pro")):
        gw.add_workspace(Workspace(namespace=namespace, plan=plan, allowed_capture_domains=(host_of(site),)))
    with gw:
        yield gw


def key_for(gw: GatewayProcess, namespace: str) -> str:
    store = SqliteAccountStore(gw.data_dir / "imgate.sqlite3")
    try:
        secret, _ = issue_api_key(store, namespace, "status", "read")
    finally:
        store.close()
    return secret


def test_capture_urls_use_the_plan_s_pool_and_health_counts_it(gateway: GatewayProcess, site: TestSite) -> None:
    def capture(namespace: str, path: str = "/simple.html") -> None:
        url = quote(site.url(path), safe="")
        answer = httpx.get(f"{gateway.url}/{namespace}/?capture={url}&fm=png", timeout=60)
        assert answer.status_code == 200, answer.text

    def health() -> dict[str, object]:
        checks: dict[str, dict[str, object]] = httpx.get(f"{gateway.url}/_/health", timeout=30).json()["checks"]
        return checks["capture"]

    def status(namespace: str) -> dict[str, object]:
        headers = {"Authorization": f"Bearer {key_for(gateway, namespace)}"}
        answer = httpx.get(f"{gateway.url}/_/api/v1/captures/status", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    capture("shared")
    shown = health()
    assert (shown["browsers"], shown["dedicated_pools"], shown["dedicated_browsers"]) == (1, 0, 0)
    capture("solo")
    shown = health()
    assert (shown["browsers"], shown["dedicated_pools"], shown["dedicated_browsers"]) == (1, 1, 1)
    assert "solo" not in httpx.get(f"{gateway.url}/_/health", timeout=30).text
    assert (status("solo")["dedicatedBrowsers"], status("solo")["dedicatedPoolRunning"]) == (1, True)
    assert (status("shared")["dedicatedBrowsers"], status("shared")["dedicatedPoolRunning"]) == (0, False)
    assert (status("solo")["dedicatedPoolBusy"], shown["dedicated_waiting"]) == (0, 0)
    # A capture of solo's held in its pool: the status counts it, as the process running the pool holds it.
    site.rearm()
    held = threading.Thread(target=capture, args=("solo", "/hold"))
    held.start()
    try:
        assert site.held.wait(15)
        assert status("solo")["dedicatedPoolBusy"] == 1 and status("shared")["dedicatedPoolBusy"] == 0
    finally:
        site.release()
        held.join(60)
    assert status("solo")["dedicatedPoolBusy"] == 0
