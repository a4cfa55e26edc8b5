"""Monthly quotas: read from the usage counters, counted locally between reads, reset at the month boundary."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from gateway.accounts.memory_usage import MemoryUsageStore
from gateway.accounts.plans import PlanOverrides, effective_limits
from gateway.accounts.usage import UsageCounts, UsageTotals
from gateway.errors import RateLimited
from gateway.limits.quotas import MonthlyQuotas
from tests.gateway.limits.clock import HandClock

pytestmark = pytest.mark.anyio

LIMITS = effective_limits("free", PlanOverrides(renders_per_month=3, captures_per_month=1, bytes_out_per_month=10_000))


def usage() -> MemoryUsageStore:
    return MemoryUsageStore(lambda namespace: True)


async def settle(quotas: MonthlyQuotas, namespace: str) -> None:
    """Let the background read of the month's totals finish."""
    state = quotas.current(namespace)
    if state.task is not None:
        await state.task


async def test_a_used_up_render_quota_refuses_renders_naming_it_and_its_reset() -> None:
    clock, store = HandClock(), usage()
    store.add("acme", date(2026, 11, 3), UsageCounts(renders=3))
    quotas = MonthlyQuotas(store.month_totals, clock)
    with pytest.raises(RateLimited) as refused:
        await quotas.check_render("acme", False, LIMITS)  # the first check waits for the store's totals
    assert refused.value.message == ("the monthly renders quota of 3 is used up; it resets at 2026-12-01T00:00:00Z")
    assert refused.value.headers["Retry-After"] == "60"  # the clock is at 23:59 on the last day
    await quotas.check_render("acme", True, LIMITS)  # captures have a quota of their own
    quotas.admit("acme", LIMITS)


async def test_counts_made_here_add_to_the_stores_until_the_next_read() -> None:
    clock, store = HandClock(), usage()
    quotas = MonthlyQuotas(store.month_totals, clock, refresh=5.0)
    await quotas.check_render("acme", False, LIMITS)
    quotas.record("acme", renders=2, captures=0, bytes_out=0)
    await quotas.check_render("acme", False, LIMITS)
    quotas.record("acme", renders=1, captures=0, bytes_out=0)
    with pytest.raises(RateLimited):
        await quotas.check_render("acme", False, LIMITS)
    # Another read before the flush brought those counts to the store: it does not forget them.
    clock.advance(6)
    await settle(quotas, "acme")
    assert quotas.current("acme").used_renders == 3
    # Another worker's counts arrive through the store.
    store.add("acme", date(2026, 11, 30), UsageCounts(renders=10))
    clock.advance(6)
    await settle(quotas, "acme")
    assert quotas.current("acme").used_renders == 10


async def test_the_bytes_quota_refuses_every_request() -> None:
    clock, store = HandClock(), usage()
    quotas = MonthlyQuotas(store.month_totals, clock)
    quotas.admit("acme", LIMITS)
    await settle(quotas, "acme")
    quotas.record("acme", 0, 0, 10_000)
    with pytest.raises(RateLimited) as refused:
        quotas.admit("acme", LIMITS)
    assert "monthly bytes out quota of 10000" in refused.value.message


async def test_the_month_boundary_starts_every_count_again() -> None:
    clock, store = HandClock(), usage()
    store.add("acme", date(2026, 11, 30), UsageCounts(renders=3, captures=1, bytes_out=10_000))
    quotas = MonthlyQuotas(store.month_totals, clock)
    with pytest.raises(RateLimited):
        await quotas.check_render("acme", False, LIMITS)
    with pytest.raises(RateLimited):
        quotas.admit("acme", LIMITS)
    clock.advance(61)  # 2026-12-01T00:00:01Z
    quotas.admit("acme", LIMITS)
    await quotas.check_render("acme", False, LIMITS)
    await quotas.check_render("acme", True, LIMITS)
    state = quotas.current("acme")
    assert (state.year, state.month, state.used_renders) == (2026, 12, 0)


async def test_counts_survive_a_restart_through_the_store() -> None:
    clock, store = HandClock(), usage()
    store.add("acme", date(2026, 11, 1), UsageCounts(captures=1))
    restarted = MonthlyQuotas(store.month_totals, clock)
    with pytest.raises(RateLimited) as refused:
        await restarted.check_render("acme", True, LIMITS)
    assert "captures quota of 1" in refused.value.message


async def test_a_store_that_cannot_be_read_keeps_serving_on_what_is_known() -> None:
    clock = HandClock()

    def broken(namespace: str, year: int, month: int) -> UsageTotals:
        raise OSError("the store is away")

    quotas = MonthlyQuotas(broken, clock)
    await quotas.check_render("acme", False, LIMITS)
    quotas.admit("acme", LIMITS)
    quotas.record("acme", 3, 0, 0)
    with pytest.raises(RateLimited):
        await quotas.check_render("acme", False, LIMITS)


async def test_the_ratelimit_items_count_down_and_say_when_the_month_resets() -> None:
    clock, store = HandClock(), usage()
    quotas = MonthlyQuotas(store.month_totals, clock)
    await settle(quotas, "acme")
    assert quotas.items("acme", LIMITS) == b', "renders";r=3;t=60, "captures";r=1;t=60, "bytes";r=10000;t=60'
    quotas.record("acme", 1, 0, 400)
    clock.advance(1.5)
    assert quotas.items("acme", LIMITS) == b', "renders";r=2;t=59, "captures";r=1;t=59, "bytes";r=9600;t=59'
    await asyncio.sleep(0)
