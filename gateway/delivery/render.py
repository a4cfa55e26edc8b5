"""The render step: a plan's output on a memory miss, and the memory tier it fills.

``memory_hit`` is the hit step (one lookup, by every path). On a miss, ``render`` runs once per cache key at a
time (single flight; the requests that join a running flight are ``coalesced``): result store -> the render
gate (monthly quotas) -> originals cache -> source fetch -> transform in the bounded pool -> memory tier and,
written behind the response, the result store. A stored output older than the workspace's latest purge
covering its source is a miss, like a memory entry of that age. Errors propagate to the request path and are
never stored: a transform refused by the pool's admission (503 OVERLOADED) or stopped at its deadline
(503 RENDER_TIMEOUT) leaves nothing behind.

Misses of one original at once (a srcset's widths) share one origin fetch and one decode: the decode is made at
the largest width's scale and every width resizes from it (``gateway.cache.originals.DecodeShares``).

``pixel_budget(settings)`` is the one place the settings' limits become the transforms' ``PixelBudget``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Protocol

from gateway import metrics
from gateway.cache.memory import MemoryEntry, MemoryTier
from gateway.cache.originals import DecodeShares, OriginalsCache
from gateway.cache.results import CachedResult, ResultStore
from gateway.cache.singleflight import SingleFlight
from gateway.delivery.plans import RequestPlan
from gateway.delivery.pool import TransformPool
from gateway.errors import GatewayError, Internal, from_transform_error
from gateway.settings import Settings
from gateway.sources.base import Original
from gateway.web.responses import representation_headers
from transforms.errors import TransformError
from transforms.options import Format
from transforms.pipeline import Output, PixelBudget, run
from transforms.shared_decode import SharedDecode

log = logging.getLogger("imgate.render")


class RenderGate(Protocol):
    async def before_render(self, plan: RequestPlan) -> None:
        """Before a render that is no result-store hit: raise a ``GatewayError`` to refuse it (the monthly
        render and capture quotas, ``gateway.limits``), before the origin is asked or a pixel decoded."""
        ...


@dataclass(frozen=True, slots=True)
class Rendered:
    entry: MemoryEntry
    tier: str  # "store", "miss", or "coalesced" (waited for a concurrent identical request)


# The largest decoded image a srcset burst shares, per burst: a 2560x1600 RGB photo is 12 MB, a 5120x2880 one 44 MB
# (left to decode on its own: measured, sharing those raised the large-miss peak RSS by a third).
SHARED_DECODE_BYTES = 16 * 1024 * 1024


def _cache_id(plan: RequestPlan) -> str:
    # Per workspace: two workspaces naming the same bucket object may hold different credentials, and
    # one must never be served bytes (or pixels) that only the other could fetch.
    return f"{plan.namespace}\x00{plan.identity}"


def pixel_budget(settings: Settings) -> PixelBudget:
    """What one transform of a gateway with ``settings`` may decode and produce."""
    return PixelBudget(
        max_pixels=settings.max_source_pixels,
        max_output_side=settings.max_output_side,
        max_gif_pixels=settings.max_gif_pixels,
        max_gif_frame_pixels=settings.max_gif_frame_pixels,
        max_avif_pixels=settings.max_avif_pixels,
        max_auto_avif_pixels=settings.max_auto_avif_pixels,
        max_lossless_pixels=settings.max_lossless_pixels,
        max_animation_pixels=settings.max_animation_pixels,
    )


def etag_for(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def memory_entry(
    data: bytes, content_type: str, vary: str, created_at: float, expires_at: float, max_age: int
) -> MemoryEntry:
    etag = etag_for(data)
    headers = representation_headers(content_type, len(data), max_age, etag, vary)
    return MemoryEntry(data, content_type, etag, vary, created_at, expires_at, *headers)


class Renderer:
    def __init__(
        self,
        memory: MemoryTier,
        originals: OriginalsCache,
        results: ResultStore,
        pool: TransformPool,
        budget: PixelBudget,
        decodes: DecodeShares | None = None,
        gate: RenderGate | None = None,
    ) -> None:
        self._memory = memory
        self._originals = originals
        self._results = results
        self._pool = pool
        self._budget = budget
        self._flights: SingleFlight[Rendered] = SingleFlight()
        self._fetches: SingleFlight[Original] = SingleFlight()
        # A srcset burst's misses decode their original once (gateway.cache.originals.DecodeShares).
        self._decodes = decodes if decodes is not None else DecodeShares(SHARED_DECODE_BYTES)
        self._writes: set[asyncio.Task[None]] = set()
        # Asked before every render (the monthly renders/captures quotas), after the stored results.
        self._gate = gate

    def memory_hit(self, key: str, purged_after: float) -> MemoryEntry | None:
        entry = self._memory.get(key)
        if entry is not None and entry.created_at > purged_after:
            return entry
        return None

    async def render(self, plan: RequestPlan, chosen: Format | None, key: str) -> Rendered:
        joining = key in self._flights
        rendered = await self._flights.run(key, lambda: self._miss(plan, chosen, key))
        # A request that joined another's flight did no work of its own: say so (it is a hit for the metrics).
        return Rendered(rendered.entry, "coalesced") if joining else rendered

    async def _miss(self, plan: RequestPlan, chosen: Format | None, key: str) -> Rendered:
        now = time.time()
        if plan.keep:
            stored = await self._stored(key)
            if stored is not None and stored.expires_at > now and stored.created_at > plan.purged_after:
                entry = memory_entry(
                    stored.data, stored.content_type, stored.vary, stored.created_at, stored.expires_at, plan.max_age
                )
                self._memory.put(key, entry)
                return Rendered(entry, "store")
        if plan.refuse_render is not None:
            # Only what is rendered already is served (memory tier, result store); nothing new is made.
            raise plan.refuse_render()
        if self._gate is not None:
            await self._gate.before_render(plan)
        if plan.passthrough:
            original = await self._original(plan)
            data, content_type = original.data, original.content_type or "application/octet-stream"
        else:
            with self._decodes.joined(_cache_id(plan), plan.options) if plan.keep else nullcontext() as shared:
                original = await self._original(plan)
                output = await self._transform(original, plan, chosen, shared)
            data, content_type = output.data, output.content_type
        entry = memory_entry(data, content_type, plan.vary, now, now + plan.max_age, plan.max_age)
        if plan.keep:
            self._memory.put(key, entry)
            result = CachedResult(
                data=entry.data,
                content_type=entry.content_type,
                created_at=entry.created_at,
                expires_at=entry.expires_at,
                vary=entry.vary,
            )
            self._write_behind(key, result)
        return Rendered(entry, "miss")

    async def _stored(self, key: str) -> CachedResult | None:
        started = time.perf_counter()
        try:
            found = await self._results.get(key)
            metrics.observe_result_store("get", time.perf_counter() - started)
            return found
        except Exception:
            metrics.observe_result_store("get", time.perf_counter() - started, failed=True)
            # A broken result store only costs a transform; the store reports itself on /_/health.
            log.warning("result store read failed", exc_info=True)
            return None

    async def _original(self, plan: RequestPlan) -> Original:
        cache_id = _cache_id(plan)
        original = self._originals.get(cache_id) if plan.keep else None
        if original is not None:
            return original
        if plan.keep:
            # Misses of one original at once (a srcset's widths) share one fetch, as renders of one key do.
            return await self._fetches.run(cache_id, lambda: self._fetch(plan, cache_id))
        return await self._fetch(plan, cache_id)

    async def _fetch(self, plan: RequestPlan, cache_id: str) -> Original:
        started = time.perf_counter()
        try:
            original = await plan.fetch()
        except GatewayError as exc:
            metrics.observe_origin(plan.kind.name.lower(), time.perf_counter() - started, exc.code)
            raise
        metrics.observe_origin(plan.kind.name.lower(), time.perf_counter() - started)
        if plan.keep:
            self._originals.put(cache_id, original)
        return original

    async def _transform(
        self, original: Original, plan: RequestPlan, chosen: Format | None, shared: SharedDecode | None = None
    ) -> Output:
        mark = plan.mark.spec if plan.mark else None
        try:
            return await self._pool.run(
                lambda deadline: run(
                    original.data, plan.options, chosen, self._budget, mark=mark, deadline=deadline, shared=shared
                )
            )
        except GatewayError:
            raise
        except TransformError as exc:
            raise from_transform_error(exc) from None
        except Exception:
            log.exception("transform failed")
            raise Internal() from None

    def _write_behind(self, key: str, result: CachedResult) -> None:
        async def write() -> None:
            started = time.perf_counter()
            try:
                await self._results.put(key, result)
                metrics.observe_result_store("put", time.perf_counter() - started)
            except Exception:
                metrics.observe_result_store("put", time.perf_counter() - started, failed=True)
                log.warning("result store write failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(write())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def drain(self, timeout: float = 5.0) -> None:
        """At shutdown: stop the renders nobody waits for, and give pending store writes ``timeout`` seconds."""
        await self._flights.aclose()
        await self._fetches.aclose()
        if self._writes:
            await asyncio.wait(list(self._writes), timeout=timeout)
