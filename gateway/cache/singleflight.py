"""One computation per key at a time: concurrent callers for a key await the first caller's result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        future = self._inflight.get(key)
        if future is not None:
            # shield: one waiter's cancellation (client gone) must not cancel the shared work.
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await compute()
        except BaseException as exc:
            # Errors are handed to the waiters of this flight only, never kept: the next request retries.
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved: waiters may be gone
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    def __contains__(self, key: str) -> bool:
        return key in self._inflight

    def __len__(self) -> int:
        return len(self._inflight)
