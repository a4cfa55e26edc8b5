"""The services one worker process runs, built from settings by ``build_services`` and closed at shutdown.

Stores come from their factories (``build_account_store``, ``build_result_store``: never ``None``, no store
is ``NullResultStore``), and the request path gets its hooks here: each feature that plugs into it (rate
limits, usage counters, the access log) builds one ``gateway.delivery.hooks.RequestHooks``, appended to
``hooks`` in ``build_services``, and the path runs them chained in that order.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from gateway import metrics
from gateway.accounts.factory import build_account_store
from gateway.accounts.keyring import secret_box
from gateway.accounts.secrets import SecretBox
from gateway.accounts.store import AccountStore
from gateway.accounts.tokens import TokenSigner
from gateway.cache.factory import build_result_store
from gateway.cache.memory import MemoryTier
from gateway.cache.originals import DecodeShares, OriginalsCache
from gateway.cache.results import ResultStore
from gateway.delivery import malloc
from gateway.delivery.hooks import RequestHooks, chain
from gateway.delivery.path import RequestPath
from gateway.delivery.plans import Planner
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import Renderer, pixel_budget
from gateway.domains.recheck import Rechecker, rechecker
from gateway.health import Check, Status
from gateway.health import check as check_health
from gateway.jobs.accounting import JobAccounting
from gateway.jobs.local import StoreQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.webhooks import WebhookSender
from gateway.jobs.workers import CaptureWorkers
from gateway.limits.factory import build_limit_hooks
from gateway.limits.hooks import LimitHooks
from gateway.marks.resolve import MarkResolver
from gateway.metrics.access_log import AccessLog
from gateway.metrics.exposition import worker_exiting
from gateway.netguard import guard_for
from gateway.policy.signing import SignatureGate
from gateway.settings import Settings
from gateway.sources.capture import CaptureSource
from gateway.sources.external import ExternalFetcher
from gateway.sources.factory import SourceFactory
from gateway.tenancy import Tenancy
from gateway.usage.flusher import UsageFlusher
from gateway.usage.hooks import UsageHooks
from gateway.usage.monitoring import MonitoringHooks
from gateway.usage.stores import usage_store
from gateway.web.clientaddr import TrustedProxies
from gateway.web.hosts import HostRouting
from transforms import scale_on_load, turbo_jpeg, vips

log = logging.getLogger("imgate")

MIB = 1024 * 1024


@dataclass(slots=True)
class Services:
    settings: Settings
    store: AccountStore
    tenancy: Tenancy
    renderer: Renderer
    results: ResultStore
    pool: TransformPool
    external: ExternalFetcher
    capture: CaptureSource
    path: RequestPath
    hosts: HostRouting  # the gateway's own hosts, or a custom domain (gateway.web.hosts)
    domains: Rechecker  # the custom domains' periodic DNS re-check (gateway.domains.recheck)
    secrets: SecretBox  # the gateway's key (gateway.accounts.secrets), one per process
    tokens: TokenSigner  # the gateway's own tokens, signed with keys from ``secrets``: the process's one signer
    limits: LimitHooks | None = None  # rate limits and monthly quotas (gateway.limits); None: limiter = "off"
    usage: UsageFlusher | None = None  # adds the usage counters to their store every few seconds (gateway.usage)
    jobs: CaptureWorkers | None = None  # the capture job workers of this process (gateway.jobs)
    accounting: JobAccounting | None = None  # capture jobs and result downloads through the request hooks

    async def health(self) -> tuple[Status, dict[str, Check]]:
        """Each dependency's status, and the gateway's: see ``gateway.health``."""
        return await check_health(self)

    async def aclose(self) -> None:
        if self.usage is not None:
            # First, so a failure below cannot lose them: the server stopped taking requests before this.
            await self.usage.aclose()
        await self.domains.aclose()
        if self.jobs is not None:
            await self.jobs.aclose()  # before the browsers: a job cut off here is retried by another worker
        if self.limits is not None:
            await self.limits.limiter.aclose()
        await self.renderer.drain()
        await self.tenancy.aclose()
        await self.external.aclose()
        await self.capture.aclose()
        with contextlib.suppress(Exception):
            await self.results.aclose()
        self.pool.shutdown()
        worker_exiting()
        self.store.close()


def build_services(
    settings: Settings, store: AccountStore | None = None, hooks: RequestHooks | None = None
) -> Services:
    vips.configure(concurrency=settings.vips_concurrency)
    scale_on_load.configure(scale_on_load.Mode(settings.scale_on_load))
    turbo_jpeg.configure(settings.jpeg_decoder == "turbo")
    malloc.limit_arenas(max(2, settings.transform_threads))
    malloc.map_large_blocks()  # a decode's buffers go back to the system when freed (gateway.delivery.malloc)
    store = store or build_account_store(settings)
    guard = guard_for(settings)
    secrets = secret_box(settings)
    tokens = TokenSigner(secrets)
    factory = SourceFactory(settings, guard, secrets)
    results = build_result_store(settings)
    pool = TransformPool(
        settings.transform_threads,
        settings.transform_queue,
        queue_timeout=settings.queue_timeout,
        run_timeout=settings.transform_timeout,
    )
    memory = MemoryTier(settings.memory_cache_mb * MIB)
    usage = usage_store(settings, store)
    limits = build_limit_hooks(settings, usage, on_refused=metrics.count_limiter_rejection)
    renderer = Renderer(
        memory,
        OriginalsCache(settings.originals_cache_mb * MIB, settings.originals_cache_ttl),
        results,
        pool,
        pixel_budget(settings),
        DecodeShares(settings.burst_decode_mb * MIB),
        gate=limits,
    )
    tenancy = Tenancy(store, factory.build, settings.tenancy_ttl)
    external = ExternalFetcher(factory.limits, guard)
    capture = CaptureSource(settings, guard)
    planner = Planner(MarkResolver(), external, capture)
    chained: list[RequestHooks] = [hooks] if hooks is not None else []
    if limits is not None:
        chained.append(limits)
    # Usage counters and monitoring: counted in memory per request, the counters flushed every few seconds.
    counting = UsageHooks(tenancy.known)
    access_log = AccessLog(settings.access_log_sample) if settings.access_log else None
    chained += [counting, MonitoringHooks(tenancy.known, access_log, settings.metrics_workspace_label)]
    flusher = UsageFlusher(
        counting,
        usage,
        settings.usage_flush_interval,
        lambda: metrics.set_memory_tier(memory.size_bytes, len(memory)),
        access_log.flush if access_log is not None else None,
    )
    with contextlib.suppress(RuntimeError):  # no event loop yet: the flush at shutdown still runs
        flusher.start()
    request_hooks = chain(chained)
    path = RequestPath(tenancy, planner, renderer, request_hooks, SignatureGate(secrets))
    hosts = HostRouting(settings.public_hosts, TrustedProxies(settings.trusted_proxies))
    domains = rechecker(settings, store.domains)
    # Capture jobs: workers in this process take jobs from store.capture_jobs (the account store's or Redis, as
    # build_account_store chose), started by the lifespan; jobs and result downloads are recorded by the hooks.
    runner = JobRunner(capture, pool, pixel_budget(settings), results, url_ttl=settings.capture_result_url_ttl)
    webhooks = WebhookSender(guard, timeout=settings.webhook_timeout, retry_for=settings.webhook_retry_for)
    accounting = JobAccounting(tenancy.get, request_hooks)
    queue = StoreQueue(store.capture_jobs, settings)
    jobs = CaptureWorkers(settings, queue, store, runner, results, secrets, webhooks, accounting, tokens=tokens)
    return Services(
        settings,
        store,
        tenancy,
        renderer,
        results,
        pool,
        external,
        capture,
        path,
        hosts,
        domains,
        secrets,
        tokens,
        limits=limits,
        usage=flusher,
        jobs=jobs,
        accounting=accounting,
    )
