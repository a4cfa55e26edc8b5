"""Fetches for ``?src=`` URLs: one guarded aiohttp session per process, shared by every workspace.

The URL has already passed the workspace's source allowlist; the guard still checks every address and
every redirect hop at connect time, so even a permissive ``*`` list never reaches an internal address.
"""

from __future__ import annotations

import asyncio

import aiohttp

from gateway.netguard import NetGuard
from gateway.sources.base import FetchLimits, Original
from gateway.sources.fetching import fetch_url, new_session


class ExternalFetcher:
    def __init__(self, limits: FetchLimits, guard: NetGuard) -> None:
        self._limits = limits
        self._guard = guard
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    async def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            async with self._lock:
                if self._session is None:
                    self._session = new_session(self._guard)
        return self._session

    async def fetch(self, url: str) -> Original:
        session = await self._ensure_session()
        return await fetch_url(session, url, self._limits, self._guard)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
