"""The in-process output tier: least recently used first out, bounded by bytes, with per-entry expiry.

Every hit reads it, so it is an ``OrderedDict`` handled inline (a lookup and a ``move_to_end``, both in C)
rather than a general cache class: on the hit path that difference is most of a hit's cost. It is used from
the event loop thread only, so it takes no lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

# Per-entry bookkeeping (key, entry object, encoded headers, dict slot) on top of the payload.
_ENTRY_OVERHEAD = 400

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    data: bytes
    content_type: str
    etag: str
    vary: str  # "Accept" when the format was negotiated, else ""
    created_at: float  # wall clock: an entry rendered before a purge marker is stale
    expires_at: float
    # Encoded once by the response writer (``gateway.web.responses.representation_headers``), so a hit
    # encodes nothing: the headers of a 200, the ones a 304 repeats, and the entry's own Vary.
    headers: Headers
    not_modified: Headers
    vary_headers: Headers


def _size(entry: MemoryEntry) -> int:
    return len(entry.data) + _ENTRY_OVERHEAD


class MemoryTier:
    def __init__(self, max_bytes: int) -> None:
        self._entries: OrderedDict[str, MemoryEntry] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0

    def get(self, key: str, now: float | None = None) -> MemoryEntry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= (now or time.time()):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: MemoryEntry) -> None:
        size = _size(entry)
        if size > self._max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= _size(evicted)

    def purge(self, prefix: str) -> int:
        doomed = [key for key in self._entries if key.startswith(prefix)]
        for key in doomed:
            self._drop(key)
        return len(doomed)

    def _drop(self, key: str) -> None:
        self._bytes -= _size(self._entries.pop(key))

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
