"""The in-process output tier: an LRU bounded by bytes, with per-entry expiry."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from cachetools import LRUCache

# Per-entry bookkeeping (key, object headers, LRU links) on top of the payload.
_ENTRY_OVERHEAD = 400


YEAR = 31_536_000


def cache_control(max_age: int) -> str:
    # A year is "immutable": the URL changes (v=) when the image must; shorter ages (info, captures) are not.
    # 0 is a capture kept nowhere (retention 0): no CDN or browser may keep it either.
    if max_age <= 0:
        return "no-store"
    if max_age >= YEAR:
        return f"public, max-age={max_age}, immutable"
    return f"public, max-age={max_age}"


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    data: bytes
    content_type: str
    etag: str
    vary: str
    created_at: float
    expires_at: float
    max_age: int
    # The representation headers, encoded once: a hit then builds no header at all.
    raw_headers: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = [
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-length", str(len(self.data)).encode()),
            (b"cache-control", cache_control(self.max_age).encode()),
            (b"etag", self.etag.encode("latin-1")),
        ]
        if self.vary:
            headers.append((b"vary", self.vary.encode("latin-1")))
        object.__setattr__(self, "raw_headers", tuple(headers))


class MemoryTier:
    def __init__(self, max_bytes: int) -> None:
        self._entries: LRUCache[str, MemoryEntry] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda e: len(e.data) + _ENTRY_OVERHEAD
        )
        # Only the event loop thread touches it today; the lock keeps purge from a thread safe.
        self._lock = threading.Lock()

    def get(self, key: str, now: float | None = None) -> MemoryEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= (now or time.time()):
                del self._entries[key]
                return None
            return entry

    def put(self, key: str, entry: MemoryEntry) -> None:
        with self._lock:
            if len(entry.data) + _ENTRY_OVERHEAD <= self._entries.maxsize:
                self._entries[key] = entry

    def discard(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def purge(self, prefix: str) -> int:
        with self._lock:
            doomed = [key for key in self._entries if key.startswith(prefix)]
            for key in doomed:
                del self._entries[key]
            return len(doomed)

    @property
    def size_bytes(self) -> int:
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)
