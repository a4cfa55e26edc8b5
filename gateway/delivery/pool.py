"""The bounded transform pool: libvips work off the event loop, and a full queue answers 503.

pyvips releases the GIL inside libvips, so a small thread pool per process keeps both the loop and the cores
busy; scaling beyond that is done with processes (Granian workers), as measured in DESIGN §8.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from gateway.delivery import malloc
from gateway.errors import Overloaded

T = TypeVar("T")


class TransformPool:
    def __init__(self, threads: int, queue: int, retry_after: int = 1) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="transform")
        self._capacity = threads + queue
        self._admitted = 0
        self._retry_after = retry_after

    async def run(self, func: Callable[[], T]) -> T:
        if self._admitted >= self._capacity:
            raise Overloaded(headers={"Retry-After": str(self._retry_after)})
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()
            return await loop.run_in_executor(self._executor, context.run, func)
        finally:
            self._admitted -= 1
            if self._admitted == 0:
                # Idle: hand the decoders' freed pages back (see gateway.delivery.malloc), off the event loop.
                with contextlib.suppress(RuntimeError):  # the pool is shutting down
                    self._executor.submit(malloc.trim)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
