"""The ``ResultStore`` protocol: rendered outputs kept across processes and restarts; and the store of none.

Keys come from ``gateway.cache.keys`` and are laid out ``{namespace}/{kind}/{source key}/{hash}`` so that a
purge of a workspace, of one kind of source or of a source-key prefix is a prefix listing. An entry carries
its content type, when it was rendered and an absolute expiry; a store never returns an expired entry.
Every store refuses (``ValueError``) a key or prefix outside the key grammar, so no key can name a path
outside a disk store's folder or a bucket's prefix.

Implementations: ``NullResultStore`` (here: ``result_store = "none"``), ``gateway.cache.disk``,
``gateway.cache.s3`` and ``gateway.cache.memory_results`` (unit tests); ``gateway.cache.factory`` picks one.
``tests/gateway/cache/results_contract.py`` is the suite each of them runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_SEGMENT = r"(?!\.\.?(?:/|$))[A-Za-z0-9%._~-]+"
_KEY = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
# Whole segments, then a partial last one that only filters names in its folder (so "." is fine there).
_PREFIX = re.compile(rf"(?:{_SEGMENT}/)*[A-Za-z0-9%._~-]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedResult:
    data: bytes
    content_type: str
    # Wall-clock seconds when the output was rendered: a hit rendered before a purge marker is stale.
    created_at: float
    expires_at: float
    # Headers that must be replayed on a hit (e.g. "Vary: Accept" when auto=format chose the format).
    vary: str = ""


def is_result_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


def check_key(key: str) -> str:
    if not is_result_key(key):
        raise ValueError("result store key must be [A-Za-z0-9%._~-] segments joined by '/'")
    return key


def check_prefix(prefix: str) -> str:
    if _PREFIX.fullmatch(prefix) is None:
        raise ValueError("result store prefix must be [A-Za-z0-9%._~-] segments joined by '/'")
    return prefix


class ResultStore(Protocol):
    @property
    def kind(self) -> str:
        """The ``result_store`` setting's name for it ("disk", "s3", "none", …), as ``/_/health`` reports it."""
        ...

    async def get(self, key: str) -> CachedResult | None: ...

    async def put(self, key: str, result: CachedResult) -> None:
        """Keep ``result`` (an already expired one is dropped). A failed write is logged, never raised."""
        ...

    async def purge(self, prefix: str) -> int:
        """Remove every entry whose key starts with ``prefix``; return how many."""
        ...

    async def healthy(self) -> bool: ...

    async def aclose(self) -> None: ...


class NullResultStore:
    """No result store: every read a miss, every write dropped, nothing to purge.

    Healthy by definition: there is nothing that could fail, and ``/_/health`` says ``none`` by its ``kind``.
    """

    kind = "none"

    async def get(self, key: str) -> CachedResult | None:
        check_key(key)
        return None

    async def put(self, key: str, result: CachedResult) -> None:
        check_key(key)

    async def purge(self, prefix: str) -> int:
        check_prefix(prefix)
        return 0

    async def healthy(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
