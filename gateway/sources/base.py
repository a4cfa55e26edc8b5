"""The ``Source`` protocol: fetch an original's bytes for a key.

A source is built once per workspace origin (it may hold a connection pool) and shared by every
request for that workspace. ``identity(key)`` names an original without fetching it, so a cache
hit never touches the origin; it must differ whenever the bytes could differ (another bucket,
another prefix, another folder), and it is hashed into the cache key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Original:
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int
    connect_timeout: float
    total_timeout: float


class Source(Protocol):
    def identity(self, key: str) -> str:
        """A stable, secret-free name for the original at ``key``; part of the cache key."""
        ...

    async def fetch(self, key: str) -> Original:
        """Return the original's bytes, or raise a ``GatewayError``:
        ``NotFound`` (missing, or a key that escapes the origin), ``SourceTooLarge`` (over the byte cap),
        ``BlockedAddress`` (SSRF guard), ``OriginError`` (any other origin failure), ``Timeout``."""
        ...

    async def aclose(self) -> None: ...
