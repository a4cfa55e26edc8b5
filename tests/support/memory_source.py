"""An in-memory ``Source`` for unit tests of the project's own protocols (integration tests use real servers)."""

from __future__ import annotations

import asyncio

from gateway.errors import NotFound
from gateway.sources.base import Original


class MemorySource:
    def __init__(self, objects: dict[str, bytes], delay: float = 0.0) -> None:
        self.objects = objects
        self.delay = delay
        self.fetches = 0
        self.closed = False

    def identity(self, key: str) -> str:
        return f"memory:{id(self)}:{key}"

    async def fetch(self, key: str) -> Original:
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if key not in self.objects:
            raise NotFound()
        return Original(self.objects[key])

    async def aclose(self) -> None:
        self.closed = True
