"""UsageHooks counts each outcome in memory by workspace and UTC day; UsageFlusher adds them to the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from gateway.accounts.usage import DailyUsage, UsageCounts
from gateway.cache.keys import Kind
from gateway.delivery.hooks import Outcome
from gateway.usage.flusher import UsageFlusher
from gateway.usage.hooks import UsageHooks
from tests.gateway.usage.switched_store import SwitchedStore

# 2026-03-14 23:59:59 UTC, then a second later the next UTC day.
LATE = 1773532799.0
DAY = date(2026, 3, 14)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def known_only(*namespaces: str) -> Callable[[str], bool]:
    return lambda namespace: namespace in namespaces


def outcome(
    status: int = 200,
    tier: str | None = "memory",
    code: str | None = None,
    namespace: str = "acme",
    kind: Kind | None = Kind.ORIGIN,
    bytes_out: int = 100,
) -> Outcome:
    return Outcome(namespace, status, tier, code, kind, bytes_out, 0.001)


def test_each_outcome_is_counted_by_what_it_was() -> None:
    hooks = UsageHooks(known_only("acme"), Clock(LATE))
    hooks.record(outcome(tier="memory"))
    hooks.record(outcome(tier="store", bytes_out=50))
    hooks.record(outcome(tier="miss"))
    hooks.record(outcome(tier="miss", kind=Kind.CAPTURE, bytes_out=1000))
    hooks.record(outcome(tier="coalesced"))
    hooks.record(outcome(status=304, tier="memory", bytes_out=0))
    hooks.record(outcome(status=404, tier=None, code="NOT_FOUND", bytes_out=60))
    hooks.record(outcome(status=502, tier=None, code="ORIGIN_ERROR", bytes_out=60))
    hooks.record(outcome(status=404, tier=None, code="NOT_FOUND", bytes_out=60))
    pending = hooks.take()
    assert pending == {
        ("acme", DAY): UsageCounts(
            requests=9,
            hits_memory=2,
            hits_store=1,
            renders=1,
            captures=1,
            bytes_out=100 * 3 + 50 + 1000 + 180,  # memory, miss, coalesced; the 304 sends no body
            not_modified=1,
            errors={"NOT_FOUND": 2, "ORIGIN_ERROR": 1},
        )
    }
    assert hooks.take() == {}  # taken once


def test_namespaces_that_name_no_workspace_are_not_counted() -> None:
    hooks = UsageHooks(known_only("acme"), Clock(LATE))
    for made_up in ("ghost", "x" * 40, "Acme"):
        hooks.record(outcome(status=404, tier=None, code="NOT_FOUND", namespace=made_up))
    hooks.record(outcome())
    assert list(hooks.take()) == [("acme", DAY)]


def test_counts_go_to_the_utc_day_of_the_request() -> None:
    clock = Clock(LATE)
    hooks = UsageHooks(known_only("acme"), clock)
    hooks.record(outcome())
    clock.now += 1
    hooks.record(outcome())
    hooks.record(outcome())
    pending = hooks.take()
    assert {day: counts.requests for (_, day), counts in pending.items()} == {DAY: 1, date(2026, 3, 15): 2}


@pytest.fixture(params=["sqlite", "memory"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    store: AccountStore = (
        SqliteAccountStore(tmp_path / "a.sqlite3") if request.param == "sqlite" else MemoryAccountStore()
    )
    store.create_workspace(Workspace(namespace="acme"))
    yield store
    store.close()


@pytest.mark.anyio
async def test_the_flusher_adds_what_was_counted_and_flushes_the_rest_on_close(
    accounts: AccountStore,
) -> None:
    hooks = UsageHooks(known_only("acme"), Clock(LATE))
    flusher = UsageFlusher(hooks, accounts.usage, interval=3600)
    flusher.start()
    for _ in range(3):
        hooks.record(outcome())
    assert await flusher.flush()
    hooks.record(outcome(tier="miss"))
    await flusher.aclose()  # the periodic flush never ran: closing adds what is left
    assert accounts.usage.days("acme", DAY, DAY) == [
        DailyUsage("acme", DAY, requests=4, hits_memory=3, renders=1, bytes_out=400)
    ]


@pytest.mark.anyio
async def test_a_failed_flush_keeps_the_counts_for_the_next(accounts: AccountStore) -> None:
    store = SwitchedStore(accounts.usage, up=False)
    hooks = UsageHooks(known_only("acme"), Clock(LATE))
    flusher = UsageFlusher(hooks, store, interval=3600)
    hooks.record(outcome())
    hooks.record(outcome(status=404, tier=None, code="NOT_FOUND"))
    assert not await flusher.flush()
    assert not flusher.healthy
    hooks.record(outcome())
    store.up = True
    assert await flusher.flush()
    assert flusher.healthy
    (day,) = accounts.usage.days("acme", DAY, DAY)
    assert (day.requests, day.hits_memory, dict(day.errors)) == (3, 2, {"NOT_FOUND": 1})
