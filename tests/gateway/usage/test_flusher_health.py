"""With nothing to add, UsageFlusher asks the store ``healthy()``, so an idle worker reports the store too."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

import pytest

from gateway.accounts.memory_usage import MemoryUsageStore
from gateway.accounts.usage import DailyUsage, UsageCounts, UsageTotals
from gateway.delivery.hooks import Outcome
from gateway.usage.flusher import UsageFlusher
from gateway.usage.hooks import UsageHooks

pytestmark = pytest.mark.anyio

LATE = 1773532799.0  # 2026-03-14 23:59:59 UTC
DAY = date(2026, 3, 14)


class AwayStore:
    """Memory counters behind a switch: ``up`` says what ``healthy`` answers and whether ``add_batch`` works."""

    def __init__(self) -> None:
        self.inner = MemoryUsageStore(lambda namespace: True)
        self.up = True
        self.asked = 0  # how many times ``healthy`` was called
        self.raises = False  # a store that breaks the contract and raises from ``healthy``

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        if not self.up:
            raise ConnectionError("the store at 10.0.0.7:6379 is away")
        self.inner.add_batch(batch)

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        return self.inner.days(namespace, first, last)

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        return self.inner.month_totals(namespace, year, month)

    def all_days(self, namespace: str) -> list[DailyUsage]:
        return self.inner.all_days(namespace)

    def delete_workspace(self, namespace: str) -> int:
        return self.inner.delete_workspace(namespace)

    def healthy(self) -> bool:
        self.asked += 1
        if self.raises:
            raise ConnectionError("the store at 10.0.0.7:6379 is away")
        return self.up


def flusher_over(store: AwayStore) -> tuple[UsageHooks, UsageFlusher]:
    hooks = UsageHooks(lambda namespace: True, lambda: LATE)
    return hooks, UsageFlusher(hooks, store, interval=3600)


def served(hooks: UsageHooks) -> None:
    hooks.record(Outcome("acme", 200, "memory", None, None, 100, 0.001))


async def test_an_idle_flusher_asks_the_store_and_follows_its_answer() -> None:
    store = AwayStore()
    _, flusher = flusher_over(store)
    assert await flusher.flush() and flusher.healthy
    store.up = False
    assert not await flusher.flush()
    assert not flusher.healthy
    store.up = True
    assert await flusher.flush() and flusher.healthy
    assert store.asked == 3  # once per flush that had nothing to add


async def test_a_flush_with_counts_asks_nothing_more_than_adding_them() -> None:
    store = AwayStore()
    hooks, flusher = flusher_over(store)
    served(hooks)
    assert await flusher.flush()
    assert store.asked == 0  # the add itself answered whether the store takes counts
    assert [u.requests for u in store.days("acme", DAY, DAY)] == [1]


async def test_a_failed_flush_is_cleared_by_a_healthy_check_then_the_counts_follow() -> None:
    store = AwayStore()
    hooks, flusher = flusher_over(store)
    store.up = False
    served(hooks)
    assert not await flusher.flush() and not flusher.healthy
    store.up = True
    assert await flusher.flush()  # the kept counts are added, so this flush had something to add
    assert flusher.healthy and store.asked == 0
    assert [u.requests for u in store.days("acme", DAY, DAY)] == [1]


async def test_a_store_that_raises_from_healthy_is_unhealthy_and_the_flusher_goes_on() -> None:
    store = AwayStore()
    hooks, flusher = flusher_over(store)
    store.raises = True
    assert not await flusher.flush()
    assert not flusher.healthy
    store.raises = False
    served(hooks)
    assert await flusher.flush() and flusher.healthy


async def test_an_outage_is_logged_once_without_its_detail_and_its_end_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = AwayStore()
    _, flusher = flusher_over(store)
    store.up = False
    store.raises = True
    with caplog.at_level(logging.INFO, logger="imgate"):
        for _ in range(3):
            await flusher.flush()
        store.up, store.raises = True, False
        await flusher.flush()
        await flusher.flush()
    lines = [record.getMessage() for record in caplog.records if record.name == "imgate"]
    assert len(lines) == 2
    assert "health check" in lines[0] and "takes the counters again" in lines[1]
    assert not [line for line in lines if "10.0.0.7" in line]
