"""``UsageFlusher``: adds what ``UsageHooks`` counted to the usage store every few seconds and at shutdown.

One task per worker process. Each flush takes the counts gathered so far (on the event loop, where they are
counted, so no lock is needed), adds them to the store in a worker thread (the stores block), and on failure
gives them back so the next flush adds them: a store that is down for a while loses nothing; a crash loses at
most one interval. ``aclose`` flushes what is left, so a clean shutdown loses nothing. A periodic flush with
nothing to add asks the store whether it is healthy instead, so ``healthy`` follows the store in every worker,
busy or not; the flush at shutdown does not ask (nothing reads the answer then, and the check could only delay
the shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from gateway.accounts.usage import UsageStore
from gateway.usage.hooks import UsageHooks

log = logging.getLogger("imgate")


class UsageFlusher:
    def __init__(
        self,
        hooks: UsageHooks,
        store: UsageStore,
        interval: float,
        on_tick: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._hooks = hooks
        self._store = store
        self._interval = interval
        self._on_tick = on_tick  # also run every interval: the gauges sampled from this process's state
        self._on_close = on_close  # also run at shutdown: what else buffers for this process (the access log)
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._reported_dropped = 0
        self._lock = asyncio.Lock()

    def start(self) -> None:
        """Start the periodic flush on the running event loop (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def healthy(self) -> bool:
        """False while the last flush, or the last check of the store when there was nothing to add, failed
        (the counts wait in memory for the next flush)."""
        return not self._failing

    async def flush(self, *, check: bool = True) -> bool:
        """Add what was counted so far; True when the store took it. With nothing to add, ``check`` asks the
        store whether it is healthy and answers that; without it the answer is the last one, unchanged."""
        async with self._lock:  # the periodic flush and the one at shutdown never run at once
            pending = self._hooks.take()
            if self._hooks.dropped != self._reported_dropped:
                log.warning(
                    "usage: %d requests were not counted (too many workspaces in one interval)",
                    self._hooks.dropped - self._reported_dropped,
                )
                self._reported_dropped = self._hooks.dropped
            if not pending:
                if not check:
                    return not self._failing
                # Nothing to add: the store is asked instead, so a worker that served nothing lately still
                # reports the store the way the workers that did see it.
                if await asyncio.to_thread(self._store_is_healthy):
                    self._recovered()
                else:
                    self._failed("usage: the store failed its health check; counters wait in memory until it passes")
                return not self._failing
            try:
                await asyncio.to_thread(self._store.add_batch, pending)
            except Exception as exc:
                self._hooks.give_back(pending)
                self._failed(
                    "usage: adding the counters to the store failed (%s); kept for the next flush", type(exc).__name__
                )
                return False
            self._recovered()
            return True

    def _store_is_healthy(self) -> bool:
        try:
            return bool(self._store.healthy())
        except Exception:
            # ``healthy`` never raises by contract; one that did must not end the periodic flush.
            return False

    def _failed(self, message: str, *args: object) -> None:
        if not self._failing:  # logged once when it starts, not once per interval while it lasts
            log.warning(message, *args)
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            log.info("usage: the store takes the counters again")
        self._failing = False

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._on_close is not None:
            try:
                self._on_close()
            except Exception:
                log.exception("usage: the shutdown hook failed")
        await self.flush(check=False)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._on_tick is not None:
                try:
                    self._on_tick()
                except Exception:
                    log.exception("usage: the periodic sampler failed")
            await self.flush()
