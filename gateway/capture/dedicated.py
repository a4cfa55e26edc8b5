"""Dedicated rendering: a workspace whose plan has ``dedicated_browsers`` captures in a pool of its own.

Such a workspace's captures run only in its own ``BrowserPool``, whose browsers no other workspace ever
uses; every other workspace shares the common pool, which the dedicated one never uses either. The pools
of one worker process are bounded, and start and stop with demand:

- A pool starts on the workspace's first capture, with the plan's number of browsers, capped at
  ``dedicated_browsers_max`` (a plan asking for more gets that many in this process, never a refusal). Each
  browser runs one capture at a time; ``max_queue`` more may wait, as in the common pool.
- It is closed once it has run no capture for ``dedicated_idle_timeout`` seconds, and when the plan no
  longer includes it (that capture uses the common pool) or asks for another size. Those two wait until
  the pool is idle (no capture running or waiting in it): the plan is read from the tenancy cache for
  ``?capture=`` URLs and from the store for jobs, so for a few seconds after a change two captures may ask
  for different sizes, and the running pool keeps serving both rather than being closed and launched again
  for each.
- At most ``dedicated_pools`` of them, with at most ``dedicated_browsers_max`` browsers among them, exist at
  once, counting those still closing. A workspace that needs room closes the least recently used pool with
  no capture running or waiting. When every pool is busy, a ``?capture=`` URL is ``503 OVERLOADED`` with
  ``Retry-After`` at once, and a capture job waits up to its ``wait`` for room (then the same error). It
  never falls back to the common pool: "no other workspace's page ever ran in this browser" is the promise,
  and a fallback would break it in the other direction too once the common pool's browsers are shared
  with it.

A pool closed while captures still run in it takes no new ones and is killed when the last one ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from gateway.capture.browser import Browser
from gateway.capture.pool import BrowserPool
from gateway.errors import CaptureUnavailable, Overloaded
from gateway.settings import CaptureSettings

T = TypeVar("T")

# How often idle pools are looked for, at most; a short idle timeout is looked at more often.
_SWEEP_S = 30.0


@dataclass(eq=False)
class _Entry:
    namespace: str
    browsers: int
    pool: BrowserPool
    # The size the latest capture's plan asked for (0: none); the pool takes it once idle.
    wanted: int = 0
    started: asyncio.Future[None] | None = None
    in_flight: int = 0
    last_used: float = field(default_factory=time.monotonic)
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class DedicatedPools:
    def __init__(self, settings: CaptureSettings, make_pool: Callable[[int], BrowserPool]) -> None:
        """``make_pool(browsers)``: a new, unstarted pool of that many browsers, marked apart from every other."""
        self._settings = settings
        self._make_pool = make_pool
        self._entries: dict[str, _Entry] = {}
        self._closing: dict[_Entry, asyncio.Task[None]] = {}
        # Set (and replaced) whenever room may have been made: a pool went idle, closed, or failed to start.
        self._changed = asyncio.Event()
        self._waiting = 0
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def count(self) -> int:
        """Pools serving a workspace now (not those being closed)."""
        return len(self._entries)

    @property
    def live(self) -> int:
        """Browsers running in all of them, those being closed included."""
        return sum(len(entry.pool.browsers()) for entry in (*self._entries.values(), *self._closing))

    @property
    def waiting(self) -> int:
        """Captures waiting for room because every pool is busy (jobs only: a ``?capture=`` URL never waits)."""
        return self._waiting

    def busy(self, namespace: str) -> int:
        """Captures running or waiting in ``namespace``'s pool now."""
        entry = self._entries.get(namespace)
        return entry.in_flight if entry is not None else 0

    def size(self, namespace: str) -> int:
        """The browsers of ``namespace``'s pool; 0 when it has none running here."""
        entry = self._entries.get(namespace)
        return entry.browsers if entry is not None else 0

    def browsers(self, namespace: str) -> list[Browser]:
        entry = self._entries.get(namespace)
        return entry.pool.browsers() if entry is not None else []

    async def run(self, namespace: str, browsers: int, job: Callable[[Browser, float], T], *, wait: float = 0.0) -> T:
        """``job`` on a browser of ``namespace``'s own pool of ``browsers``, started if need be; ``wait``: how long
        to wait for room when every pool is busy (0: ``Overloaded`` at once)."""
        entry = await self._claim(namespace, min(browsers, self._settings.dedicated_browsers_max), wait)
        try:
            assert entry.started is not None  # noqa: S101 - _open starts every pool it makes
            await asyncio.shield(entry.started)
            return await entry.pool.run(job)
        finally:
            entry.in_flight -= 1
            entry.last_used = time.monotonic()
            if entry.in_flight == 0:
                entry.idle.set()
                if entry.wanted != entry.browsers and self._entries.get(namespace) is entry:
                    self._retire(entry)  # the plan changed while it was busy; the next capture starts the new one
                self._wake()

    def release(self, namespace: str) -> None:
        """The workspace's plan no longer includes dedicated browsers: close its pool once idle, if it has one."""
        entry = self._entries.get(namespace)
        if entry is not None:
            entry.wanted = 0
            if entry.in_flight == 0:
                self._retire(entry)

    async def aclose(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for entry in list(self._entries.values()):
            self._retire(entry, now=True)
        self._wake()
        await asyncio.gather(*self._closing.values(), return_exceptions=True)

    async def _claim(self, namespace: str, browsers: int, wait: float) -> _Entry:
        deadline = time.monotonic() + wait
        while True:
            if self._closed:
                # Shutting down: no pool may start behind aclose, however long the capture meant to wait.
                raise CaptureUnavailable()
            entry = self._entries.get(namespace)
            if entry is not None:
                entry.wanted = browsers
                if entry.browsers != browsers and entry.in_flight == 0:
                    self._retire(entry)
                    entry = None
            if entry is None and self._has_room(browsers):
                entry = self._open(namespace, browsers)
            if entry is not None:
                # Counted before any wait, so that no eviction can pick a pool a capture is about to use.
                entry.in_flight += 1
                entry.idle.clear()
                return entry
            # Room is made once a pool with nothing running is gone: one already closing, else the least
            # recently used idle one. Another workspace may take the room first, hence the loop.
            closing = [task for entry, task in self._closing.items() if entry.in_flight == 0]
            if not closing:
                idle = [entry for entry in self._entries.values() if entry.in_flight == 0]
                if idle:
                    closing = [self._retire(min(idle, key=lambda entry: entry.last_used))]
            if closing:
                await asyncio.wait(closing, return_when=asyncio.FIRST_COMPLETED)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise Overloaded("every dedicated capture pool is busy", headers={"Retry-After": self._retry_after()})
            changed = self._changed
            self._waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)
            finally:
                self._waiting -= 1

    def _has_room(self, browsers: int) -> bool:
        held = (*self._entries.values(), *self._closing)
        return (
            len(held) < self._settings.dedicated_pools
            and sum(entry.browsers for entry in held) + browsers <= self._settings.dedicated_browsers_max
        )

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _retry_after(self) -> str:
        """When the first busy pool is likely to take another capture (each pool's own estimate)."""
        pools = [entry.pool for entry in (*self._entries.values(), *self._closing)]
        return str(min((int(pool.retry_after()) for pool in pools), default=1))

    def _open(self, namespace: str, browsers: int) -> _Entry:
        entry = _Entry(namespace, browsers, self._make_pool(browsers), wanted=browsers)
        entry.started = asyncio.ensure_future(self._start(entry))
        # Its failure reaches every capture waiting for it; marked seen for when none is left to.
        entry.started.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._entries[namespace] = entry
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.ensure_future(self._sweep())
        return entry

    async def _start(self, entry: _Entry) -> None:
        try:
            await entry.pool.start()
        except BaseException:
            # start() left no browser behind; the next capture of the workspace tries again.
            self._forget(entry)
            self._wake()
            raise

    def _retire(self, entry: _Entry, *, now: bool = False) -> asyncio.Task[None]:
        """Take ``entry`` out of service and close it once its captures end (at once if ``now``)."""
        self._forget(entry)
        task = self._closing.get(entry)
        if task is None:
            task = asyncio.ensure_future(self._close(entry, now))
            self._closing[entry] = task
            task.add_done_callback(lambda _: self._closed_one(entry))
        return task

    def _closed_one(self, entry: _Entry) -> None:
        self._closing.pop(entry, None)
        self._wake()

    def _forget(self, entry: _Entry) -> None:
        if self._entries.get(entry.namespace) is entry:
            del self._entries[entry.namespace]

    async def _close(self, entry: _Entry, now: bool) -> None:
        if not now and entry.in_flight > 0:
            await entry.idle.wait()
        # A start still under way sees the closed pool and kills what it launches (pool.py).
        await entry.pool.aclose()

    async def _sweep(self) -> None:
        timeout = self._settings.dedicated_idle_timeout
        every = min(_SWEEP_S, max(0.05, timeout / 4))
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            for entry in list(self._entries.values()):
                if entry.in_flight == 0 and now - entry.last_used >= timeout:
                    self._retire(entry)
