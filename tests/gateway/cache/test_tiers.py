from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.cache.keys import KEY_RE, cache_key, escape_source_key, key_prefix
from gateway.cache.memory import MemoryEntry, MemoryTier
from gateway.cache.originals import OriginalsCache
from gateway.cache.singleflight import SingleFlight
from gateway.delivery.render import memory_entry
from gateway.sources.base import Original


def entry(data: bytes, expires_at: float = 1e12, created_at: float = 1.0) -> MemoryEntry:
    return memory_entry(data, "image/jpeg", "", created_at, expires_at, 60)


@given(st.text(min_size=1, max_size=300), st.text(max_size=50), st.text(max_size=50))
def test_keys_are_safe_and_start_with_their_purge_prefix(source_key: str, identity: str, variant: str) -> None:
    key = cache_key("acme", "o", source_key, identity, variant)
    assert KEY_RE.fullmatch(key)
    assert ".." not in key.split("/")
    assert key.startswith(key_prefix("acme", ""))
    if all(len(part) < 100 for part in escape_source_key(source_key).split("/")):
        # Segments over the length cap are shortened with a hash: a prefix ending inside one covers less.
        assert key.startswith(key_prefix("acme", "o", source_key))


@given(st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60))
def test_a_key_prefix_covers_its_extensions(prefix: str, rest: str) -> None:
    key = cache_key("acme", "o", prefix + rest, "id", "v")
    if len(escape_source_key(prefix + rest)) < 100:
        assert key.startswith(key_prefix("acme", "o", prefix))


def test_keys_differ_by_namespace_identity_and_variant() -> None:
    base = cache_key("acme", "o", "a.jpg", "local:a.jpg", "w=1")
    assert base != cache_key("other", "o", "a.jpg", "local:a.jpg", "w=1")
    assert base.split("/")[-1] != cache_key("other", "o", "a.jpg", "local:a.jpg", "w=1").split("/")[-1]
    assert base != cache_key("acme", "o", "a.jpg", "local:b.jpg", "w=1")
    assert base != cache_key("acme", "o", "a.jpg", "local:a.jpg", "w=2")


def test_traversal_segments_are_escaped() -> None:
    assert escape_source_key("../x") == "%2E./x"
    assert escape_source_key("a/./b") == "a/%2E/b"
    assert escape_source_key("a//b") == "a/%00/b"


def test_memory_tier_is_bounded_by_bytes_and_evicts_least_recent() -> None:
    tier = MemoryTier(max_bytes=3000)
    tier.put("a", entry(b"x" * 1000))
    tier.put("b", entry(b"x" * 1000))
    assert tier.get("a") is not None  # a is now more recent than b
    tier.put("c", entry(b"x" * 1000))
    assert tier.get("b") is None
    assert tier.get("a") is not None and tier.get("c") is not None
    assert tier.size_bytes <= 3000


def test_memory_tier_counts_a_replaced_entry_once() -> None:
    tier = MemoryTier(max_bytes=3000)
    for _ in range(10):
        tier.put("a", entry(b"x" * 1000))
    tier.put("b", entry(b"x" * 1000))
    assert len(tier) == 2 and tier.get("a") is not None and tier.get("b") is not None
    tier.purge("")
    assert len(tier) == 0 and tier.size_bytes == 0


def test_memory_tier_drops_expired_entries_and_skips_oversized_ones() -> None:
    tier = MemoryTier(max_bytes=2000)
    tier.put("old", entry(b"x", expires_at=100.0))
    assert tier.get("old", now=101.0) is None
    tier.put("huge", entry(b"x" * 5000))
    assert tier.get("huge") is None


def test_memory_tier_purges_by_prefix() -> None:
    tier = MemoryTier(max_bytes=10_000)
    for key in ("acme/o/a/1", "acme/o/b/2", "other/o/a/3"):
        tier.put(key, entry(b"x"))
    assert tier.purge("acme/o/a") == 1
    assert tier.get("acme/o/b/2") is not None and tier.get("other/o/a/3") is not None


def test_originals_cache_is_bounded() -> None:
    cache = OriginalsCache(max_bytes=1000, ttl=60)
    cache.put("a", Original(b"x" * 600))
    cache.put("b", Original(b"x" * 600))
    assert cache.get("a") is None and cache.get("b") is not None


@pytest.mark.anyio
async def test_single_flight_runs_once_for_concurrent_callers() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    tasks = [asyncio.create_task(flights.run("k", compute)) for _ in range(20)]
    await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*tasks) == [42] * 20
    assert calls == 1
    assert len(flights) == 0


@pytest.mark.anyio
async def test_single_flight_shares_errors_but_does_not_keep_them() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    results = await asyncio.gather(*(flights.run("k", failing) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert calls == 1

    async def ok() -> int:
        return 7

    assert await flights.run("k", ok) == 7


@pytest.mark.anyio
async def test_single_flight_survives_a_cancelled_waiter() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release = asyncio.Event()

    async def compute() -> int:
        await release.wait()
        return 1

    first = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    assert await first == 1


@pytest.mark.anyio
async def test_single_flight_survives_a_cancelled_first_caller() -> None:
    # The first caller's client went away: before, the work ran in its task and every waiter got
    # CancelledError; now the work has a task of its own and the others still get the result.
    flights: SingleFlight[int] = SingleFlight()
    release = asyncio.Event()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 7

    first = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(flights.run("k", compute)) for _ in range(3)]
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == [7, 7, 7]
    assert first.cancelled() and calls == 1 and len(flights) == 0


@pytest.mark.anyio
async def test_work_nobody_waits_for_is_finished_for_a_caller_who_comes_back() -> None:
    flights: SingleFlight[int] = SingleFlight(abandon_after=10.0)
    release = asyncio.Event()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 3

    gone = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0.01)
    assert "k" in flights  # still running: its result is worth having
    back = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    release.set()
    assert await back == 3 and calls == 1


@pytest.mark.anyio
async def test_work_nobody_waits_for_is_cancelled_after_a_while() -> None:
    flights: SingleFlight[int] = SingleFlight(abandon_after=0.02)
    stopped = asyncio.Event()

    async def forever() -> int:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
        return 0

    callers = [asyncio.create_task(flights.run("k", forever)) for _ in range(2)]
    await asyncio.sleep(0)
    for caller in callers:
        caller.cancel()
    await asyncio.wait_for(stopped.wait(), timeout=2)
    await asyncio.sleep(0)
    assert len(flights) == 0

    async def quick() -> int:
        return 5

    assert await flights.run("k", quick) == 5  # a new flight, not the abandoned one


@pytest.mark.anyio
async def test_single_flight_aclose_stops_running_work() -> None:
    flights: SingleFlight[int] = SingleFlight()
    stopped = asyncio.Event()

    async def forever() -> int:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
        return 0

    caller = asyncio.create_task(flights.run("k", forever))
    await asyncio.sleep(0.01)
    await flights.aclose()
    assert stopped.is_set()
    with pytest.raises(asyncio.CancelledError):
        await caller
