"""The warm browser pool: isolation, bounded concurrency, a bounded queue, hard timeouts, replacement.

Isolation, measured (2-core machine shared with other work, Debian Chromium 156, Selenium 4.51, a small
local page, one capture = navigate + PNG screenshot, p50 of 15):

    new ChromeDriver session per capture (the naive baseline)     0.93 s
    browser start alone (single-use pre-warmed browsers)          0.72 s of CPU per capture, paid in the
                                                                  background but paid: throughput stays
                                                                  bound by browser starts, like the
                                                                  baseline's
    WebDriver BiDi user context per capture                       0.53 s
    reused tab, no isolation at all (the floor)                   0.08 s
    new tab + CDP clearing (cookies, cache, storage per origin)   0.22 s, but it clears only the origins
                                                                  it knows of, and leaves service
                                                                  workers and permissions
    DevTools browser context per capture (chosen)                 0.28 s in all, of which 0.18 s in
                                                                  front of the caller: the next context
                                                                  is opened (0.08 s) after the previous
                                                                  capture is answered

A DevTools browser context (``Target.createBrowserContext`` on the browser's own DevTools connection,
which ChromeDriver refuses to forward) is what incognito windows are made of: cookies, local storage,
IndexedDB, Cache Storage, the HTTP cache, service workers and permissions live in memory in it and die
with ``Target.disposeBrowserContext``. It isolates more than the alternatives,
at half the cost of a BiDi user context and a third of a new session.

The whole service, as shipped (bench/capture_bench.py, proxy included, load average ~9 from other
work on the same 2 cores): p50 0.35 s, p95 0.83 s at concurrency 1; 2.09 captures/s at concurrency 4
against 0.76 for the naive baseline (2.75x); browser memory flat over 200 captures (PSS ~450-470 MB
for one browser, RSS summed 1.22-1.26 GB, 14 processes before and after).

Concurrency: each browser has one thread ("slot") that makes all its blocking Selenium calls; the event
loop only waits. ``max_concurrency`` captures run at once; ``max_queue`` more may wait up to
``timeout`` for a browser (then, or when the queue is full, ``Overloaded`` with Retry-After). A capture
gets ``timeout`` (the job enforces it itself; ``Timeout``); if the browser does not answer
``HANG_GRACE_S`` after that, it is killed and replaced. A browser whose driver died is replaced before a
capture can pick it, and after ``recycle_after`` captures as a safety net.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import urllib3
from selenium.common.exceptions import WebDriverException

from gateway import metrics
from gateway.capture.browser import Browser, BrowserGone
from gateway.capture.cdp import CdpError
from gateway.capture.procs import find_processes, kill_processes
from gateway.errors import CaptureUnavailable, GatewayError, OriginError, Overloaded, Timeout
from gateway.settings import CaptureSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")

HANG_GRACE_S = 2.0
RESET_TIMEOUT_S = 10.0
_MAX_BACKOFF_S = 30.0
_RECHECK_S = 0.5
# What a dead or dying browser looks like from here; Selenium lets urllib3's errors through when
# ChromeDriver itself is gone.
_BROWSER_FAILURES = (BrowserGone, CdpError, WebDriverException, OSError, urllib3.exceptions.HTTPError)


class _SlotThread:
    """One daemon thread running one browser's blocking calls in order. Daemon, so that a browser call
    stuck beyond all timeouts can never hold up the interpreter's exit."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        # An abandoned future (its caller timed out) still gets its outcome; mark it seen.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._jobs.put((call, future))
        return future

    def stop(self) -> None:
        self._jobs.put(None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, future = job
            try:
                outcome: tuple[bool, Any] = (True, call())
            except BaseException as exc:  # every outcome goes back to the caller, whatever it is
                outcome = (False, exc)
            try:
                future.get_loop().call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():
        return
    succeeded, value = outcome
    if succeeded:
        future.set_result(value)
    else:
        future.set_exception(value)


class _Slot:
    def __init__(self, number: int) -> None:
        self.number = number
        self.thread = _SlotThread(f"capture-browser-{number}")
        self.browser: Browser | None = None


class BrowserPool:
    def __init__(
        self, settings: CaptureSettings, launch: Callable[[str], Browser], tag: str, *, dedicated: bool = False
    ) -> None:
        self._settings = settings
        self._launch = launch
        self._tag = tag
        # A workspace's own pool (dedicated.py): its browsers are counted apart from the shared pool's.
        self._dedicated = dedicated
        self._browser_numbers = itertools.count(1)
        self._slots = [_Slot(number) for number in range(settings.pool_size)]
        self._idle: asyncio.Queue[_Slot] = asyncio.Queue()
        self._capacity = asyncio.Semaphore(settings.max_concurrency)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._waiting = 0
        self._running = 0
        self._live = 0
        self._launch_failures = 0
        self._seconds_per_capture = 1.0
        self.replaced = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def busy(self) -> int:
        """Captures running or waiting for a browser of this pool right now."""
        return self._running + self._waiting

    def browsers(self) -> list[Browser]:
        """The pool's live browsers (each counts the ``captures`` it ran)."""
        return [slot.browser for slot in self._slots if slot.browser is not None]

    def retry_after(self) -> str:
        """Seconds (as the header's text) until this pool is likely to take another capture."""
        return self._retry_after()

    async def start(self) -> None:
        """Start every browser; fail with ``CaptureUnavailable`` only if none starts."""
        started = await asyncio.gather(*(self._launch_into(slot) for slot in self._slots))
        if not any(started):
            await self.aclose()
            raise CaptureUnavailable("captures are unavailable: the browser does not start")
        for slot, ok in zip(self._slots, started, strict=True):
            if not ok:
                self._spawn(self._relaunch(slot))

    async def run(self, job: Callable[[Browser, float], T]) -> T:
        """Run ``job(browser, deadline)`` on a warm browser in a fresh context; ``deadline`` is a
        ``time.monotonic()`` value the job must keep to."""
        if self._closed:
            raise CaptureUnavailable()
        if self._running + self._waiting >= self._settings.max_concurrency + self._settings.max_queue:
            raise Overloaded(headers={"Retry-After": self._retry_after()})
        slot = await self._acquire()
        started = time.monotonic()
        metrics.capture_busy(1)
        try:
            return await self._run_on(slot, job)
        finally:
            metrics.capture_busy(-1)
            self._running -= 1
            self._capacity.release()
            elapsed = time.monotonic() - started
            self._seconds_per_capture = 0.8 * self._seconds_per_capture + 0.2 * elapsed

    async def aclose(self) -> None:
        """Kill every browser and leave no process behind."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        browsers = [slot.browser for slot in self._slots if slot.browser is not None]
        for slot in self._slots:
            slot.browser = None
            slot.thread.stop()
        await asyncio.gather(*(asyncio.to_thread(browser.kill) for browser in browsers))
        metrics.capture_browsers_closed(self._live, dedicated=self._dedicated)
        self._live = 0

        def finish() -> None:
            # Let a launch that was under way see the closed pool, then sweep whatever is left.
            for slot in self._slots:
                slot.thread.join(timeout=self._settings.launch_timeout)
            kill_processes(self._tag)

        await asyncio.to_thread(finish)

    def process_ids(self) -> list[int]:
        """Live processes of this pool's browsers (ChromeDriver, Chromium and its children)."""
        groups = [slot.browser.process_group for slot in self._slots if slot.browser is not None]
        return find_processes(self._tag, [group for group in groups if group is not None])

    async def _acquire(self) -> _Slot:
        self._waiting += 1
        try:
            async with asyncio.timeout(self._settings.timeout):
                await self._capacity.acquire()
                try:
                    slot = await self._next_live_slot()
                except BaseException:
                    self._capacity.release()
                    raise
        except TimeoutError:
            if self._live == 0:
                raise CaptureUnavailable("captures are unavailable: the browser does not start") from None
            raise Overloaded(headers={"Retry-After": self._retry_after()}) from None
        finally:
            self._waiting -= 1
        self._running += 1
        return slot

    async def _next_live_slot(self) -> _Slot:
        while True:
            if self._live == 0 and self._launch_failures > 0:
                raise CaptureUnavailable("captures are unavailable: the browser does not start")
            try:
                # Looked at again now and then: once the last browser is lost and its replacement fails to
                # start (a remote endpoint that is down), waiters get 503 now, not after the whole timeout.
                async with asyncio.timeout(_RECHECK_S):
                    slot = await self._idle.get()
            except TimeoutError:
                continue
            if slot.browser is not None and await _is_alive(slot.browser):
                return slot
            # Its driver or browser died while idle: replace it rather than fail a capture with it.
            self._retire(slot, "found dead")

    async def _run_on(self, slot: _Slot, job: Callable[[Browser, float], T]) -> T:
        browser = slot.browser
        assert browser is not None  # noqa: S101 - _next_live_slot only returns slots with a browser
        browser.captures += 1
        deadline = time.monotonic() + self._settings.timeout
        future = slot.thread.submit(lambda: job(browser, deadline))
        try:
            result = await asyncio.wait_for(asyncio.shield(future), self._settings.timeout + HANG_GRACE_S)
        except TimeoutError:
            self._retire(slot, "hung")
            raise Timeout("the capture did not finish in time") from None
        except asyncio.CancelledError:
            # The caller went away; the browser is still busy and is put back once it is done.
            self._spawn(self._put_back_when_done(slot, future))
            raise
        except GatewayError:
            self._spawn(self._put_back(slot))
            raise
        except _BROWSER_FAILURES as exc:
            if await _is_alive(browser):
                self._spawn(self._put_back(slot))
                raise OriginError("the page could not be captured") from exc
            self._retire(slot, "crashed")
            raise CaptureUnavailable("the browser crashed; retry") from exc
        except BaseException:
            self._spawn(self._put_back(slot))
            raise
        self._spawn(self._put_back(slot))
        return result

    async def _put_back_when_done(self, slot: _Slot, future: asyncio.Future[Any]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(future), self._settings.timeout + HANG_GRACE_S)
        except TimeoutError:
            self._retire(slot, "hung")
            return
        except Exception:  # noqa: S110 - the outcome no longer has a caller; the browser is checked below
            pass
        await self._put_back(slot)

    async def _put_back(self, slot: _Slot) -> None:
        """Dispose of the capture's context, open the next one, and make the slot available again."""
        browser = slot.browser
        if browser is None or self._closed:
            return
        if browser.captures >= self._settings.recycle_after:
            self._retire(slot, "recycled")
            return
        try:
            await asyncio.wait_for(asyncio.shield(slot.thread.submit(browser.reset)), RESET_TIMEOUT_S)
        except Exception:  # whatever broke, this browser is not trusted with another capture
            self._retire(slot, "reset failed")
            return
        self._idle.put_nowait(slot)

    def _retire(self, slot: _Slot, reason: str) -> None:
        """Kill the slot's browser now and start a replacement on a fresh thread."""
        browser, slot.browser = slot.browser, None
        if browser is None:
            return
        logger.warning("replacing a capture browser (%s)", reason)
        self.replaced += 1
        self._live -= 1
        metrics.capture_browser_stopped(restarted=True, dedicated=self._dedicated)
        # The old thread may be stuck inside the dead browser's call; it ends once the kill makes that
        # call fail, and nothing else is ever given to it.
        slot.thread.stop()
        slot.thread = _SlotThread(f"capture-browser-{slot.number}")
        self._spawn(asyncio.to_thread(browser.kill))
        if not self._closed:
            self._spawn(self._relaunch(slot))

    async def _relaunch(self, slot: _Slot) -> None:
        backoff = 1.0
        while not self._closed and not await self._launch_into(slot):
            await asyncio.sleep(backoff)
            backoff = min(_MAX_BACKOFF_S, backoff * 2)

    async def _launch_into(self, slot: _Slot) -> bool:
        tag = f"{self._tag}.{next(self._browser_numbers)}"
        future = slot.thread.submit(lambda: self._launch(tag))
        try:
            browser = await asyncio.wait_for(asyncio.shield(future), self._settings.launch_timeout)
        except TimeoutError:
            _abandon_launch(future, tag)
            # The launch may still hold the thread; the next attempt gets a thread of its own.
            slot.thread.stop()
            slot.thread = _SlotThread(f"capture-browser-{slot.number}")
            self._launch_failures += 1
            metrics.capture_launch_failed(dedicated=self._dedicated)
            logger.warning("a capture browser did not start within %.0f s", self._settings.launch_timeout)
            return False
        except asyncio.CancelledError:
            _abandon_launch(future, tag)
            raise
        except Exception as exc:
            self._launch_failures += 1
            metrics.capture_launch_failed(dedicated=self._dedicated)
            logger.warning("a capture browser failed to start: %s", type(exc).__name__)
            return False
        if self._closed:
            await asyncio.to_thread(browser.kill)
            return False
        slot.browser = browser
        self._live += 1
        metrics.capture_browser_started(dedicated=self._dedicated)
        self._launch_failures = 0
        self._idle.put_nowait(slot)
        return True

    def _retry_after(self) -> str:
        backlog = self._waiting + self._running + 1
        seconds = math.ceil(backlog * self._seconds_per_capture / self._settings.max_concurrency)
        return str(max(1, min(60, seconds)))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _is_alive(browser: Browser) -> bool:
    # A remote browser's check is a round trip to its WebDriver endpoint (remote.py): never on the loop.
    if browser.remote is None:
        return browser.is_alive()
    return await asyncio.to_thread(browser.is_alive)


def _abandon_launch(future: asyncio.Future[Any], tag: str) -> None:
    """Kill whatever of a launch that is still under way already runs, and the browser if it arrives."""

    def kill_late_arrival(done: asyncio.Future[Any]) -> None:
        if not done.cancelled() and done.exception() is None:
            browser: Browser = done.result()
            threading.Thread(target=browser.kill, name="capture-browser-kill", daemon=True).start()

    future.add_done_callback(kill_late_arrival)
    kill_processes(tag)
