"""The ``ResultStore`` protocol: rendered outputs kept across processes and restarts.

Keys come from ``gateway.cache.keys`` and are laid out ``{namespace}/{hash}`` so that a purge of a
workspace is a prefix listing. An entry carries its content type and an absolute expiry; a store
never returns an expired entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CachedResult:
    data: bytes
    content_type: str
    expires_at: float
    # Headers that must be replayed on a hit (e.g. "Vary: Accept" when auto=format chose the format).
    vary: str = ""


class ResultStore(Protocol):
    async def get(self, key: str) -> CachedResult | None: ...

    async def put(self, key: str, result: CachedResult) -> None: ...

    async def purge(self, prefix: str) -> int:
        """Remove every entry whose key starts with ``prefix``; return how many."""
        ...

    async def healthy(self) -> bool: ...

    async def aclose(self) -> None: ...
