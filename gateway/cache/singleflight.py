"""One computation per key at a time: concurrent callers for a key share one result.

The shared work runs in a task of its own, never inside a caller's task, so a caller that goes away (a client
that disconnects cancels its request's task) takes nobody else down with it: the others still get the result.

When every caller has gone, the work is not cancelled at once. A render or a capture that is half done is
worth finishing: its result fills the caches, and the client that gave up usually asks again and joins it.
It is given ``abandon_after`` seconds more; if nobody has joined by then and it has not finished, it is
cancelled, so work nobody waits for never runs on indefinitely. ``aclose`` cancels whatever is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

ABANDON_AFTER = 30.0


@dataclass(slots=True)
class _Flight(Generic[T]):
    task: asyncio.Task[T]
    callers: int = 0
    abandon: asyncio.TimerHandle | None = field(default=None)


class SingleFlight(Generic[T]):
    def __init__(self, abandon_after: float = ABANDON_AFTER) -> None:
        self._abandon_after = abandon_after
        self._flights: dict[str, _Flight[T]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        flight = self._flights.get(key)
        if flight is None:
            task = asyncio.get_running_loop().create_task(_call(compute))
            flight = self._flights[key] = _Flight(task)
            task.add_done_callback(lambda done: self._landed(key, done))
        elif flight.abandon is not None:
            flight.abandon.cancel()  # someone is waiting again
            flight.abandon = None
        flight.callers += 1
        try:
            # shield: this caller's cancellation must not cancel the shared work.
            return await asyncio.shield(flight.task)
        finally:
            flight.callers -= 1
            if flight.callers == 0 and not flight.task.done():
                flight.abandon = asyncio.get_running_loop().call_later(self._abandon_after, flight.task.cancel)

    def _landed(self, key: str, task: asyncio.Task[T]) -> None:
        flight = self._flights.get(key)
        if flight is not None and flight.task is task:
            # Results and errors are handed to this flight's callers only, never kept: the next call runs anew.
            del self._flights[key]
            if flight.abandon is not None:
                flight.abandon.cancel()
        if not task.cancelled():
            task.exception()  # retrieved: every caller may be gone

    async def aclose(self) -> None:
        """Cancel the work still running (at shutdown) and wait until it has stopped."""
        tasks = [flight.task for flight in self._flights.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def __contains__(self, key: str) -> bool:
        return key in self._flights

    def __len__(self) -> int:
        return len(self._flights)


async def _call(compute: Callable[[], Awaitable[T]]) -> T:
    return await compute()
