"""A result store in this process's memory, for unit tests of the render path (no folder, no bucket).

It keeps the ``ResultStore`` contract like the disk and S3 stores (the same suite runs against it) and is
bounded by bytes, least recently used first. It is not a ``result_store`` setting: in a gateway it would only
repeat the memory tier (``gateway.cache.memory``), which already keeps outputs in each worker process.
"""

from __future__ import annotations

import time

from cachetools import LRUCache

from gateway.cache.results import CachedResult, check_key, check_prefix

_ENTRY_OVERHEAD = 200


class MemoryResultStore:
    kind = "memory"

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        # Used from one event loop and never awaits while touching the entries, so it needs no lock.
        self._entries: LRUCache[str, CachedResult] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda result: len(result.data) + _ENTRY_OVERHEAD
        )

    async def get(self, key: str) -> CachedResult | None:
        result = self._entries.get(check_key(key))
        if result is not None and result.expires_at <= time.time():
            del self._entries[key]
            return None
        return result

    async def put(self, key: str, result: CachedResult) -> None:
        check_key(key)
        if result.expires_at <= time.time() or len(result.data) + _ENTRY_OVERHEAD > self._entries.maxsize:
            return
        self._entries[key] = result

    async def purge(self, prefix: str) -> int:
        check_prefix(prefix)
        doomed = [key for key in self._entries if key.startswith(prefix)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    async def healthy(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._entries)
