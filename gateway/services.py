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

from gateway.accounts.factory import build_account_store
from gateway.accounts.keyring import secret_box
from gateway.accounts.store import AccountStore
from gateway.cache.factory import build_result_store
from gateway.cache.memory import MemoryTier
from gateway.cache.originals import OriginalsCache
from gateway.cache.results import ResultStore
from gateway.delivery import malloc
from gateway.delivery.hooks import RequestHooks, chain
from gateway.delivery.path import RequestPath
from gateway.delivery.plans import Planner
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import Renderer, pixel_budget
from gateway.marks.resolve import MarkResolver
from gateway.netguard import guard_for
from gateway.settings import Settings
from gateway.sources.capture import CaptureSource
from gateway.sources.external import ExternalFetcher
from gateway.sources.factory import SourceFactory
from gateway.tenancy import Tenancy
from transforms import vips

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

    async def health(self) -> dict[str, dict[str, str | bool]]:
        try:
            results_ok = await self.results.healthy()
        except Exception:
            results_ok = False
        return {"result_store": {"kind": self.results.kind, "ok": results_ok}}

    async def aclose(self) -> None:
        await self.renderer.drain()
        await self.tenancy.aclose()
        await self.external.aclose()
        await self.capture.aclose()
        with contextlib.suppress(Exception):
            await self.results.aclose()
        self.pool.shutdown()
        self.store.close()


def build_services(
    settings: Settings, store: AccountStore | None = None, hooks: RequestHooks | None = None
) -> Services:
    vips.configure(concurrency=settings.vips_concurrency)
    malloc.limit_arenas(max(2, settings.transform_threads))
    store = store or build_account_store(settings)
    guard = guard_for(settings)
    factory = SourceFactory(settings, guard, secret_box(settings))
    results = build_result_store(settings)
    pool = TransformPool(
        settings.transform_threads,
        settings.transform_queue,
        queue_timeout=settings.queue_timeout,
        run_timeout=settings.transform_timeout,
    )
    renderer = Renderer(
        MemoryTier(settings.memory_cache_mb * MIB),
        OriginalsCache(settings.originals_cache_mb * MIB, settings.originals_cache_ttl),
        results,
        pool,
        pixel_budget(settings),
    )
    tenancy = Tenancy(store, factory.build, settings.tenancy_ttl)
    external = ExternalFetcher(factory.limits, guard)
    capture = CaptureSource(settings, guard)
    planner = Planner(MarkResolver(), external, capture)
    chained: list[RequestHooks] = [hooks] if hooks is not None else []
    path = RequestPath(tenancy, planner, renderer, chain(chained))
    return Services(settings, store, tenancy, renderer, results, pool, external, capture, path)
