"""The Redis limiter's own promises: no Redis round trip per request, and a Redis that goes away and comes
back (a real ``redis-server``, stopped and started again on its port) costs no request and heals itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis

from gateway.limits.node import NodeLimiter
from gateway.limits.redis_limiter import RedisLimiter
from loopback.ports import free_port
from tests.gateway.usage.redis_process import redis_server

pytestmark = pytest.mark.anyio


def script_calls(url: str) -> int:
    stats: dict[str, dict[str, int]] = redis.Redis.from_url(url).info("commandstats")  # type: ignore[assignment]
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval"))


async def until(condition: object, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if callable(condition) and condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_requests_spend_leases_not_round_trips(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        limiter = RedisLimiter(url, NodeLimiter(tmp_path / "limits.bin"))
        try:
            admitted = 0
            for _ in range(5000):
                admitted += limiter.acquire("acme", 20_000, 40_000).admitted
                await asyncio.sleep(0)
            calls = script_calls(url)
        finally:
            await limiter.aclose()
    assert admitted == 5000
    # A lease is 1,000 tokens at 20,000/s: a handful of scripts for 5,000 requests, not one each.
    assert 1 <= calls <= 10, calls


async def test_redis_killed_and_restarted_costs_no_request(tmp_path: Path) -> None:
    port = free_port()
    fallback = NodeLimiter(tmp_path / "limits.bin")
    with redis_server(tmp_path, port) as url:
        limiter = RedisLimiter(url, fallback, retry_every=0.2, timeout=0.2)
        for _ in range(20):
            assert limiter.acquire("acme", 1000, 1000).admitted
            await asyncio.sleep(0.001)
        assert limiter.health() == "ok"
    try:
        # Redis is gone: the next lease fails, the node limiter takes over, and requests keep being decided.
        decisions = []
        for _ in range(200):
            decisions.append(limiter.acquire("acme", 1000, 1000))
            await asyncio.sleep(0.002)
        assert limiter.health() == "degraded"
        assert all(decision.admitted for decision in decisions)
        # The fallback limits on its own (same plan, this node only).
        refusals = sum(not limiter.acquire("small", 1, 3).admitted for _ in range(10))
        assert refusals >= 6
        with redis_server(tmp_path, port):
            assert await until(lambda: limiter.health() == "ok", 5.0)
            for _ in range(50):
                assert limiter.acquire("acme", 1000, 1000).admitted
                await asyncio.sleep(0.001)
            assert script_calls(url) >= 1  # leases come from the new server again
    finally:
        await limiter.aclose()


async def test_an_unreachable_redis_from_the_start_never_raises(tmp_path: Path) -> None:
    limiter = RedisLimiter(f"redis://127.0.0.1:{free_port()}/0", NodeLimiter(tmp_path / "l.bin"), timeout=0.2)
    try:
        results = []
        for _ in range(50):
            results.append(limiter.acquire("acme", 2, 5).admitted)
            await asyncio.sleep(0.005)
        assert limiter.health() == "degraded"
        assert 5 <= sum(results) <= 8  # the node's own bucket (plus the one admitted on credit)
    finally:
        await limiter.aclose()


async def test_a_burst_on_a_cold_worker_is_admitted_and_owed_to_the_shared_bucket(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        one = RedisLimiter(url, NodeLimiter(tmp_path / "a.bin"))
        two = RedisLimiter(url, NodeLimiter(tmp_path / "b.bin"))
        try:
            # A page's 40 thumbnails at once, before any lease came back: the free plan's burst admits them.
            assert all(one.acquire("acme", 10, 50).admitted for _ in range(40))
            await asyncio.sleep(0.3)  # the lease is back, and took the 40 owed from the shared bucket
            admitted = 0
            for _ in range(30):
                admitted += two.acquire("acme", 10, 50).admitted
                await asyncio.sleep(0.005)
        finally:
            await one.aclose()
            await two.aclose()
    # Another node gets what is left of the burst (10, plus ~5 refilled meanwhile), not a burst of its own.
    assert 8 <= admitted <= 17, admitted


async def test_aclose_stops_every_lease_in_flight_even_of_forgotten_shares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Redis that accepts and never answers: every lease stays in flight until it is cancelled.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # Four namespaces over a cap of three: the shares are dropped while their leases still run.
    monkeypatch.setattr("gateway.limits.redis_limiter._MAX_LOCAL", 3)
    limiter = RedisLimiter(f"redis://127.0.0.1:{port}/0", NodeLimiter(tmp_path / "limits.bin"), timeout=30)
    before = asyncio.all_tasks()
    try:
        for namespace in ("a", "b", "c", "d"):
            assert limiter.acquire(namespace, 100, 200).admitted
        leases = asyncio.all_tasks() - before
        assert len(leases) == 4
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in leases)
        await limiter.aclose()
        # Stopped and awaited by aclose itself, not left to fail whenever closing the client reaches them.
        assert all(task.cancelled() for task in leases)
    finally:
        await limiter.aclose()
        server.close()
        await server.wait_closed()
