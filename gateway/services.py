"""The services one worker process runs, built from settings by ``build_services`` and closed at shutdown."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from gateway.accounts.keyring import secret_box
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from gateway.cache.memory import MemoryTier
from gateway.cache.originals import OriginalsCache
from gateway.cache.results import ResultStore
from gateway.delivery import malloc
from gateway.delivery.plans import PlanCache
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import Renderer
from gateway.marks.resolve import MarkResolver
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.capture import CaptureSource
from gateway.sources.external import ExternalFetcher
from gateway.sources.factory import SourceFactory
from gateway.tenancy import Tenancy
from transforms import vips
from transforms.pipeline import Limits

log = logging.getLogger("imgate")

MIB = 1024 * 1024


@dataclass(slots=True)
class Services:
    settings: Settings
    store: AccountStore
    guard: NetGuard
    tenancy: Tenancy
    renderer: Renderer
    results: ResultStore | None
    pool: TransformPool
    external: ExternalFetcher
    marks: MarkResolver
    plans: PlanCache
    capture: CaptureSource

    async def health(self) -> dict[str, bool | None]:
        results_ok: bool | None = None
        if self.results is not None:
            try:
                results_ok = await self.results.healthy()
            except Exception:
                results_ok = False
        return {"result_store": results_ok}

    async def aclose(self) -> None:
        await self.renderer.drain()
        await self.tenancy.aclose()
        await self.external.aclose()
        await self.capture.aclose()
        if self.results is not None:
            with contextlib.suppress(Exception):
                await self.results.aclose()
        self.pool.shutdown()
        self.store.close()


def build_result_store(settings: Settings) -> ResultStore | None:
    if settings.result_store == "none":
        return None
    if settings.result_store == "disk":
        from gateway.cache.disk import DiskResultStore

        return DiskResultStore(settings.result_store_path, settings.result_store_max_mb * MIB)
    from gateway.cache.s3 import S3ResultStore

    return S3ResultStore.from_settings(settings)


def build_services(settings: Settings, store: AccountStore | None = None) -> Services:
    vips.configure(concurrency=settings.vips_concurrency)
    malloc.limit_arenas(max(2, settings.transform_threads))
    store = store or SqliteAccountStore(settings.database_path)
    guard = NetGuard(settings.trusted_networks)
    factory = SourceFactory(settings, guard, secret_box(settings))
    results = build_result_store(settings)
    pool = TransformPool(settings.transform_threads, settings.transform_queue)
    limits = Limits(max_pixels=settings.max_source_pixels, max_output_side=settings.max_output_side)
    renderer = Renderer(
        MemoryTier(settings.memory_cache_mb * MIB),
        OriginalsCache(settings.originals_cache_mb * MIB, settings.originals_cache_ttl),
        results,
        pool,
        limits,
    )
    tenancy = Tenancy(store, factory.build, settings.tenancy_ttl)
    external = ExternalFetcher(factory.limits, guard)
    return Services(
        settings,
        store,
        guard,
        tenancy,
        renderer,
        results,
        pool,
        external,
        MarkResolver(),
        PlanCache(),
        CaptureSource(settings, guard),
    )
