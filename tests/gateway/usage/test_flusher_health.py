"""With nothing to add, UsageFlusher asks the store ``healthy()``, so an idle worker reports the store too; the
flush at shutdown only adds what is left."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from gateway.delivery.hooks import Outcome
from gateway.usage.flusher import UsageFlusher
from gateway.usage.hooks import UsageHooks
from tests.gateway.usage.switched_store import SwitchedStore

pytestmark = pytest.mark.anyio

LATE = 1773532799.0  # 2026-03-14 23:59:59 UTC
DAY = date(2026, 3, 14)


def flusher_over(store: SwitchedStore) -> tuple[UsageHooks, UsageFlusher]:
    hooks = UsageHooks(lambda namespace: True, lambda: LATE)
    return hooks, UsageFlusher(hooks, store, interval=3600)


def served(hooks: UsageHooks) -> None:
    hooks.record(Outcome("acme", 200, "memory", None, None, 100, 0.001))


async def test_an_idle_flusher_asks_the_store_and_follows_its_answer() -> None:
    store = SwitchedStore()
    _, flusher = flusher_over(store)
    assert await flusher.flush() and flusher.healthy
    store.up = False
    assert not await flusher.flush()
    assert not flusher.healthy
    store.up = True
    assert await flusher.flush() and flusher.healthy
    assert store.asked == 3  # once per flush that had nothing to add


async def test_a_flush_with_counts_asks_nothing_more_than_adding_them() -> None:
    store = SwitchedStore()
    hooks, flusher = flusher_over(store)
    served(hooks)
    assert await flusher.flush()
    assert store.asked == 0  # the add itself answered whether the store takes counts
    assert [u.requests for u in store.days("acme", DAY, DAY)] == [1]


async def test_a_failed_flush_is_cleared_by_a_healthy_check_then_the_counts_follow() -> None:
    store = SwitchedStore()
    hooks, flusher = flusher_over(store)
    store.up = False
    served(hooks)
    assert not await flusher.flush() and not flusher.healthy
    store.up = True
    assert await flusher.flush()  # the kept counts are added, so this flush had something to add
    assert flusher.healthy and store.asked == 0
    assert [u.requests for u in store.days("acme", DAY, DAY)] == [1]


async def test_a_store_that_raises_from_healthy_is_unhealthy_and_the_flusher_goes_on() -> None:
    store = SwitchedStore()
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
    store = SwitchedStore()
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


async def test_the_flush_at_shutdown_adds_what_is_left_and_asks_nothing() -> None:
    store = SwitchedStore()
    hooks, flusher = flusher_over(store)
    flusher.start()
    assert await flusher.flush() and store.asked == 1
    await flusher.aclose()  # nothing left to add: the store is not asked again
    assert store.asked == 1 and flusher.healthy

    hooks, flusher = flusher_over(store)
    served(hooks)
    await flusher.aclose()
    assert store.asked == 1
    assert [u.requests for u in store.days("acme", DAY, DAY)] == [1]


async def test_the_flush_at_shutdown_keeps_the_last_answer_of_a_store_that_is_away() -> None:
    store = SwitchedStore()
    _, flusher = flusher_over(store)
    store.up = False
    assert not await flusher.flush()
    store.up = True
    await flusher.aclose()
    assert store.asked == 1 and not flusher.healthy  # not asked at shutdown, so nothing cleared the failure
