"""A short-lived in-memory cache of fetched originals, bounded by bytes, and the decodes a srcset burst shares.

Browsers fetch a ``srcset`` as five widths of one original at once: with this, one origin fetch serves them all,
and a slow-to-decode original is not downloaded again while its variants are being rendered. ``DecodeShares``
goes one step further for the misses of a burst: one decode of the original, at the largest width's scale.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cachetools import TTLCache

from gateway.sources.base import Original
from transforms.options import TransformOptions
from transforms.shared_decode import SharedDecode


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


class DecodeShares:
    """The srcset bursts in flight: one ``SharedDecode`` per original while misses of it overlap.

    A miss joins before it fetches the original, so every width of a burst has said what it wants by the time
    the first of them decodes (they all wait on the one fetch); the share is dropped, with its decoded image,
    when the last of them has finished. Bounded in time (a share is joined for ``window`` seconds after it
    began; a later miss decodes on its own) and in bytes (``max_bytes`` per decoded image; 0 turns sharing off).
    """

    def __init__(self, max_bytes: int, window: float = 2.0) -> None:
        self._max_bytes = max_bytes
        self._window = window
        self._bursts: dict[str, _Burst] = {}

    @contextmanager
    def joined(self, identity: str, options: TransformOptions) -> Iterator[SharedDecode | None]:
        if self._max_bytes <= 0:
            yield None  # turned off (burst_decode_mb = 0)
            return
        now = time.monotonic()
        burst = self._bursts.get(identity)
        if burst is None:
            burst = self._bursts[identity] = _Burst(SharedDecode(self._max_bytes), now)
        elif now - burst.began > self._window:
            yield None  # too late for this one: it decodes on its own
            return
        burst.share.want(options)
        burst.members += 1
        try:
            yield burst.share
        finally:
            burst.members -= 1
            if burst.members == 0 and self._bursts.get(identity) is burst:
                del self._bursts[identity]

    def __len__(self) -> int:
        return len(self._bursts)


@dataclass(slots=True)
class _Burst:
    share: SharedDecode
    began: float
    members: int = 0
