"""Monthly quotas per workspace: renders, captures and bytes out, per UTC calendar month.

The counts are the usage counters' (``store.usage.month_totals``), so they survive a restart and add up over
every worker and node; between two reads of the store (every ``refresh`` seconds, in the background, never
on the request path) a process adds what it counted itself since the last read, and a read never lowers a
count. A count can trail the truth by what other processes counted and had not flushed yet: at most a flush
interval plus ``refresh``; it is never above the truth.

What each quota refuses, once reached (``used >= quota``):

- ``renders``: a request that would render (fetch an original and transform it); hits, from memory or from
  the result store, are still served, because they cost no render.
- ``captures``: a request that would take a new capture; captured outputs still cached are served.
- ``bytes``: every request of the workspace (every answer costs bytes out).

Each refusal is ``429 RATE_LIMITED`` naming the quota and the UTC time it resets (the first instant of the
next month), with ``Retry-After`` in seconds until then. At the month boundary the counts start again from
the new month's totals; the clock is injectable, so tests cross it without waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from gateway.accounts.plans import PlanLimits
from gateway.accounts.usage import UsageTotals
from gateway.errors import RateLimited
from gateway.limits.clock import SYSTEM_CLOCK, Clock, iso_utc, month_of, month_start, next_month
from gateway.limits.headers import quota_items, retry_after

log = logging.getLogger("imgate.limits")

TotalsReader = Callable[[str, int, int], UsageTotals]
_MAX_MONTHS = 20_000


class _Month:
    """One workspace's counts for the month in progress, as this process knows them."""

    __slots__ = (
        "base",
        "bytes_out",
        "captures",
        "items",
        "items_until",
        "loaded",
        "month",
        "namespace",
        "refreshed",
        "renders",
        "resets_at",
        "task",
        "year",
    )

    def __init__(self, namespace: str, year: int, month: int) -> None:
        self.namespace, self.year, self.month = namespace, year, month
        self.resets_at = month_start(*next_month(year, month))
        self.base = UsageTotals()  # the store's totals at the last read
        self.renders = self.captures = self.bytes_out = 0  # counted here since that read
        self.loaded = False
        self.refreshed = float("-inf")
        self.task: asyncio.Task[None] | None = None
        self.items = b""
        self.items_until = float("-inf")

    @property
    def used_renders(self) -> int:
        return self.base.renders + self.renders

    @property
    def used_captures(self) -> int:
        return self.base.captures + self.captures

    @property
    def used_bytes(self) -> int:
        return self.base.bytes_out + self.bytes_out


@dataclass(frozen=True, slots=True)
class _Quota:
    name: str  # as the RateLimit fields and the messages name it
    what: str


RENDERS = _Quota("renders", "renders")
CAPTURES = _Quota("captures", "captures")
BYTES = _Quota("bytes", "bytes out")


class MonthlyQuotas:
    def __init__(self, read_totals: TotalsReader, clock: Clock = SYSTEM_CLOCK, refresh: float = 5.0) -> None:
        self._read = read_totals
        self._clock = clock
        self._refresh = refresh
        self._months: dict[str, _Month] = {}
        self._failed_reads = 0

    def current(self, namespace: str) -> _Month:
        """The month in progress (a new one from the boundary on), its reread scheduled when it is due."""
        return self._current(namespace, self._clock.time(), self._clock.monotonic())

    def _current(self, namespace: str, wall: float, now: float) -> _Month:
        state = self._months.get(namespace)
        if state is None or wall >= state.resets_at:
            if len(self._months) >= _MAX_MONTHS:
                self._months.clear()
            state = self._months[namespace] = _Month(namespace, *month_of(wall))
        if state.task is None and now >= state.refreshed + self._refresh:
            self._schedule(state)
        return state

    def admit(self, namespace: str, limits: PlanLimits) -> bytes:
        """On every request: ``RateLimited`` (with ``Retry-After``) once the month's bytes out reached the
        quota; else the quotas' part of the ``RateLimit`` field (see ``items``). Each clock read once."""
        wall, now = self._clock.time(), self._clock.monotonic()
        state = self._current(namespace, wall, now)
        if state.base.bytes_out + state.bytes_out >= limits.bytes_out_per_month:
            raise self._refusal(state, BYTES, limits.bytes_out_per_month)
        if now >= state.items_until:
            self._rebuild_items(state, limits, wall, now)
        return state.items

    async def check_render(self, namespace: str, capture: bool, limits: PlanLimits) -> None:
        """Before a render or a capture: the first one of a month this process sees waits for the store's
        totals, so a restart never hands out a quota that was used up before it."""
        state = self.current(namespace)
        if not state.loaded and state.task is not None:
            await asyncio.shield(state.task)
            state = self.current(namespace)
        if capture:
            if state.used_captures >= limits.captures_per_month:
                raise self._refusal(state, CAPTURES, limits.captures_per_month)
        elif state.used_renders >= limits.renders_per_month:
            raise self._refusal(state, RENDERS, limits.renders_per_month)

    def record(self, namespace: str, renders: int, captures: int, bytes_out: int) -> None:
        state = self._months.get(namespace)
        if state is None:
            return  # never admitted here (an unknown workspace, a preflight): no quota to keep
        if self._clock.time() >= state.resets_at:
            state = self.current(namespace)
        state.renders += renders
        state.captures += captures
        state.bytes_out += bytes_out
        if renders or captures:
            state.items_until = float("-inf")  # a count clients watch closely: shown at once, not a second late

    def items(self, namespace: str, limits: PlanLimits) -> bytes:
        """The quotas' part of the ``RateLimit`` field, rebuilt at most once a second (bytes out and the reset
        time change with every request) and at once after a render or a capture."""
        wall, now = self._clock.time(), self._clock.monotonic()
        state = self._current(namespace, wall, now)
        if now >= state.items_until:
            self._rebuild_items(state, limits, wall, now)
        return state.items

    def _rebuild_items(self, state: _Month, limits: PlanLimits, wall: float, now: float) -> None:
        state.items = quota_items(
            limits.renders_per_month - state.used_renders,
            limits.captures_per_month - state.used_captures,
            limits.bytes_out_per_month - state.used_bytes,
            state.resets_at - wall,
        )
        state.items_until = now + 1.0

    def _refusal(self, state: _Month, quota: _Quota, limit: int) -> RateLimited:
        resets_in = state.resets_at - self._clock.time()
        message = f"the monthly {quota.what} quota of {limit} is used up; it resets at {iso_utc(state.resets_at)}"
        return RateLimited(message, headers={"Retry-After": retry_after(resets_in)})

    def _schedule(self, state: _Month) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a synchronous caller): the counts stay this process's own
        state.task = loop.create_task(self._reread(state))

    async def _reread(self, state: _Month) -> None:
        renders, captures, bytes_out = state.renders, state.captures, state.bytes_out
        try:
            totals = await asyncio.to_thread(self._read, state.namespace, state.year, state.month)
        except Exception as exc:
            # The store is down or busy: keep deciding on what is known, and read again later. The error's
            # type only: a store's message carries its address.
            self._failed_reads += 1
            if self._failed_reads in (1, 100) or self._failed_reads % 1000 == 0:
                log.warning(
                    "monthly usage totals could not be read (%d times: %s)", self._failed_reads, type(exc).__name__
                )
        else:
            # What was counted here before the read is in the store's totals, or will be with the next flush:
            # until it is, the totals may be below what this process saw, so the larger of the two counts
            # (neither is ever above the truth). Counted after the read started, it stays local.
            base = state.base
            state.base = UsageTotals(
                requests=max(totals.requests, base.requests),
                renders=max(totals.renders, base.renders + renders),
                captures=max(totals.captures, base.captures + captures),
                bytes_out=max(totals.bytes_out, base.bytes_out + bytes_out),
            )
            state.renders -= min(renders, state.renders)
            state.captures -= min(captures, state.captures)
            state.bytes_out -= min(bytes_out, state.bytes_out)
            state.loaded = True
            state.items_until = float("-inf")
        finally:
            state.refreshed = self._clock.monotonic()
            state.task = None
