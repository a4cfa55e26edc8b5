"""A short-lived in-memory cache of fetched originals, bounded by bytes.

Browsers fetch a ``srcset`` as five widths of one original at once: with this, one origin fetch serves them all,
and a slow-to-decode original is not downloaded again while its variants are being rendered.
"""

from __future__ import annotations

import time

from cachetools import TTLCache

from gateway.sources.base import Original


class OriginalsCache:
    def __init__(self, max_bytes: int, ttl: float) -> None:
        self._entries: TTLCache[str, Original] = TTLCache(
            maxsize=max_bytes, ttl=ttl, timer=time.monotonic, getsizeof=lambda o: len(o.data) + 200
        )

    def get(self, identity: str) -> Original | None:
        return self._entries.get(identity)

    def put(self, identity: str, original: Original) -> None:
        if len(original.data) + 200 <= self._entries.maxsize:
            self._entries[identity] = original

    def clear(self) -> None:
        self._entries.clear()
