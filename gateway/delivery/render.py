"""Cache-or-transform: the service behind the image route.

Order per request: memory tier -> (single flight per key) result store -> originals cache -> source fetch ->
transform in the bounded pool -> both tiers. Errors propagate to the route and are never stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.cache.keys import cache_key
from gateway.cache.memory import MemoryEntry, MemoryTier
from gateway.cache.originals import OriginalsCache
from gateway.cache.results import CachedResult, ResultStore
from gateway.cache.singleflight import SingleFlight
from gateway.delivery.pool import TransformPool
from gateway.errors import GatewayError, Internal, from_transform_error
from gateway.marks.resolve import ResolvedMark
from gateway.sources.base import Original
from transforms.errors import TransformError
from transforms.options import Format, TransformOptions
from transforms.pipeline import Limits, Output, run

log = logging.getLogger("imgate.render")

YEAR = 31_536_000


FetchOriginal = Callable[[], Awaitable[Original]]


@dataclass(frozen=True, slots=True)
class RenderRequest:
    namespace: str
    kind: str  # "o" (workspace origin), "src" (external URL), "cap" (capture)
    source_key: str  # what purges match on: the origin key, or the normalised URL
    source_identity: str
    fetch: FetchOriginal
    options: TransformOptions
    chosen: Format | None
    vary: str  # "Accept" when the format was negotiated, else ""
    max_age: int = YEAR
    purged_after: float = 0.0
    # 0 = deliver and keep nothing (captures with retention 0).
    keep: bool = True
    mark: ResolvedMark | None = None
    # Serve the original's bytes as they are (a capture's PDF): no pixels to transform.
    passthrough: bool = False


@dataclass(frozen=True, slots=True)
class Rendered:
    entry: MemoryEntry
    tier: str  # "memory", "store", "miss", or "coalesced" (waited for a concurrent identical request)


def etag_for(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


class Renderer:
    def __init__(
        self,
        memory: MemoryTier,
        originals: OriginalsCache,
        results: ResultStore | None,
        pool: TransformPool,
        limits: Limits,
    ) -> None:
        self._memory = memory
        self._originals = originals
        self._results = results
        self._pool = pool
        self._limits = limits
        self._flights: SingleFlight[Rendered] = SingleFlight()
        self._writes: set[asyncio.Task[None]] = set()

    def key_for(self, request: RenderRequest) -> str:
        mark = request.mark.version if request.mark else ""
        variant = f"{request.options.canonical()}|fm={request.chosen or 'source'}|mark={mark}"
        return cache_key(request.namespace, request.kind, request.source_key, request.source_identity, variant)

    def memory_hit(self, key: str, purged_after: float) -> MemoryEntry | None:
        entry = self._memory.get(key)
        if entry is not None and entry.created_at > purged_after:
            return entry
        return None

    async def render(self, request: RenderRequest, key: str | None = None) -> Rendered:
        key = key or self.key_for(request)
        if request.keep:
            entry = self.memory_hit(key, request.purged_after)
            if entry is not None:
                return Rendered(entry, "memory")
        joining = key in self._flights
        rendered = await self._flights.run(key, lambda: self._miss(key, request))
        # A request that joined another's flight did no work of its own: say so (it is a hit for the metrics).
        return Rendered(rendered.entry, "coalesced") if joining else rendered

    async def _miss(self, key: str, request: RenderRequest) -> Rendered:
        now = time.time()
        if request.keep and self._results is not None:
            stored = await self._stored(self._results, key)
            if stored is not None and stored.expires_at > now:
                entry = MemoryEntry(
                    stored.data,
                    stored.content_type,
                    etag_for(stored.data),
                    stored.vary,
                    now,
                    stored.expires_at,
                    request.max_age,
                )
                self._memory.put(key, entry)
                return Rendered(entry, "store")
        original = await self._original(request)
        if request.passthrough:
            data, content_type = original.data, original.content_type or "application/octet-stream"
        else:
            output = await self._transform(original, request)
            data, content_type = output.data, output.content_type
        entry = MemoryEntry(
            data,
            content_type,
            etag_for(data),
            request.vary,
            now,
            now + request.max_age,
            request.max_age,
        )
        if request.keep:
            self._memory.put(key, entry)
            if self._results is not None:
                self._write_behind(
                    self._results, key, CachedResult(entry.data, entry.content_type, entry.expires_at, entry.vary)
                )
        return Rendered(entry, "miss")

    async def _stored(self, results: ResultStore, key: str) -> CachedResult | None:
        try:
            return await results.get(key)
        except Exception:
            # A broken result store only costs a transform; the store reports itself on /_/health.
            log.warning("result store read failed", exc_info=True)
            return None

    async def _original(self, request: RenderRequest) -> Original:
        # Per workspace: two workspaces naming the same bucket object may hold different credentials, and
        # one must never be served bytes that only the other could fetch.
        cache_id = f"{request.namespace}\x00{request.source_identity}"
        original = self._originals.get(cache_id) if request.keep else None
        if original is None:
            original = await request.fetch()
            if request.keep:
                self._originals.put(cache_id, original)
        return original

    async def _transform(self, original: Original, request: RenderRequest) -> Output:
        try:
            mark = request.mark.spec if request.mark else None
            return await self._pool.run(
                lambda: run(original.data, request.options, request.chosen, self._limits, mark=mark)
            )
        except GatewayError:
            raise
        except TransformError as exc:
            raise from_transform_error(exc) from None
        except Exception:
            log.exception("transform failed")
            raise Internal() from None

    def _write_behind(self, results: ResultStore, key: str, result: CachedResult) -> None:
        async def write() -> None:
            try:
                await results.put(key, result)
            except Exception:
                log.warning("result store write failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(write())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def drain(self, timeout: float = 5.0) -> None:
        if self._writes:
            await asyncio.wait(list(self._writes), timeout=timeout)

    def purge_memory(self, prefix: str) -> int:
        self._originals.clear()
        return self._memory.purge(prefix)
