"""The bounded transform pool: libvips work off the event loop, admitted only when it can start soon.

pyvips releases the GIL inside libvips, so a small thread pool per process keeps both the loop and the cores
busy; scaling beyond that is done with processes (Granian workers), as measured in DESIGN §8.

Admission, so that an admitted request is answered within seconds, and every other one at once with
503 ``OVERLOADED`` and ``Retry-After``:

- a free thread: the transform starts;
- every thread busy and ``queue`` requests waiting already: refused;
- the wait the queue implies (the requests ahead of it per thread, times the recent transform time) is over
  ``queue_timeout``: refused, with that estimate as ``Retry-After``;
- waited ``queue_timeout`` anyway (the estimate was low): refused then.

A transform that starts gets ``run_timeout`` seconds: the function is handed its deadline (a ``time.monotonic``
reading) and stops itself there (``transforms.deadline``), which frees the thread. The pool stops waiting a
moment later in any case (``GRACE``: the thread may be in an encode libvips cannot stop) and answers
503 ``RENDER_TIMEOUT``; that thread's slot is handed on only when the thread really finishes, so admission never
counts a busy thread as free.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from gateway import metrics
from gateway.delivery import malloc
from gateway.errors import Overloaded, RenderTimeout

T = TypeVar("T")

# Seconds the pool waits past a transform's deadline for it to stop itself before answering without it.
GRACE = 1.0
# Weight of the latest transform in the recent transform time (an exponentially weighted mean).
_RECENT_WEIGHT = 0.2
_MAX_RETRY_AFTER = 60
# Seconds the pool must stay idle before the heap is trimmed: once per burst, not after every transform.
IDLE_TRIM_DELAY = 0.25


class TransformPool:
    def __init__(
        self,
        threads: int,
        queue: int,
        *,
        queue_timeout: float | None = None,
        run_timeout: float | None = None,
        retry_after: int = 1,
    ) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="transform")
        self._threads = threads
        self._queue = queue
        self._queue_timeout = queue_timeout
        self._run_timeout = run_timeout
        self._retry_after = retry_after
        self._running = 0  # slots taken: transforms started and not finished
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._recent: float | None = None  # seconds a transform took lately; None until one finished
        self._trim_timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiting if not waiter.done())

    def expected_wait(self) -> float | None:
        """Seconds a request arriving now would wait for a thread (0: one is free); None: nothing measured yet."""
        if self._running < self._threads and not self._waiting:
            return 0.0
        if self._recent is None:
            return None
        return (self.waiting + 1) / self._threads * self._recent

    async def run(self, func: Callable[[float | None], T]) -> T:
        """``func(deadline)`` on a transform thread; raises ``Overloaded`` or ``RenderTimeout``."""
        await self._admit()
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        timeout = self._run_timeout

        def work() -> T:
            return func(None if timeout is None else time.monotonic() + timeout)

        started = loop.time()
        try:
            future = loop.run_in_executor(self._executor, context.run, work)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda done: self._finished(done, loop.time() - started))
        # Shielded: whoever stops waiting (a timeout, a cancelled request), the slot stays taken until the thread ends.
        if timeout is None:
            return await asyncio.shield(future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout + GRACE)
        except TimeoutError:
            raise RenderTimeout() from None

    def shutdown(self) -> None:
        if self._trim_timer is not None:
            self._trim_timer.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _admit(self) -> None:
        if self._running < self._threads and not self._waiting:
            self._running += 1
            return
        expected = self.expected_wait()
        if self.waiting >= self._queue:
            raise self._overloaded(expected)
        limit = self._queue_timeout
        if limit is not None and expected is not None and expected > limit:
            raise self._overloaded(expected)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        metrics.set_transform_queue(len(self._waiting))
        try:
            await asyncio.wait_for(waiter, limit)
        except TimeoutError:
            raise self._overloaded(self.expected_wait()) from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over as the request went away: hand it on
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiting.remove(waiter)
            metrics.set_transform_queue(len(self._waiting))

    def _finished(self, future: asyncio.Future[T], seconds: float) -> None:
        if not future.cancelled():
            future.exception()  # retrieved, so a result nobody waited for any more is not reported as lost
        self._recent = seconds if self._recent is None else self._recent + _RECENT_WEIGHT * (seconds - self._recent)
        metrics.observe_transform(seconds)
        self._release()

    def _release(self) -> None:
        """A slot is free: hand it to the first request still waiting, else give it back."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._running -= 1
        if self._running == 0:
            self._schedule_trim()

    def _schedule_trim(self) -> None:
        """Trim the heap once the pool has stayed idle ``IDLE_TRIM_DELAY`` seconds (see gateway.delivery.malloc).

        Deferred, not at once: the last idle moment of a burst must trim, and a trim rate limit applied at
        the moment the pool goes idle would skip exactly that one when an earlier idle moment trimmed lately.
        """
        if self._trim_timer is not None:
            self._trim_timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._trim_timer = loop.call_later(IDLE_TRIM_DELAY, self._trim_if_idle)

    def _trim_if_idle(self) -> None:
        self._trim_timer = None
        if self._running == 0:
            # Off the event loop: trimming a heap of a few hundred MB takes milliseconds.
            with contextlib.suppress(RuntimeError):  # the pool is shutting down
                self._executor.submit(malloc.release)

    def _overloaded(self, expected: float | None) -> Overloaded:
        metrics.count_transform_rejection()
        retry = self._retry_after if expected is None else min(_MAX_RETRY_AFTER, max(1, math.ceil(expected)))
        return Overloaded(headers={"Retry-After": str(retry)})
