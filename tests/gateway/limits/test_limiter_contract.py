"""What every ``Limiter`` does, run against each: the node-wide table and Redis (a real ``redis-server``).

Real time, short runs: Redis refills by its own clock. Two limiters on one backend are two processes (or two
nodes) sharing the limit; a request loop sleeps a little between requests so the background leases run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from gateway.limits.node import NodeLimiter
from gateway.limits.protocol import Limiter
from gateway.limits.redis_limiter import RedisLimiter
from tests.gateway.usage.redis_process import redis_server

pytestmark = pytest.mark.anyio

Make = Callable[[], Limiter]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["node", "redis"])
async def make(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Make]:
    made: list[Limiter] = []
    prefix = f"test:{request.node.name}:{time.monotonic()}:"

    def build() -> Limiter:
        node = NodeLimiter(tmp_path / "limits.bin")
        if request.param == "node":
            limiter: Limiter = node
        else:
            limiter = RedisLimiter(
                request.getfixturevalue("redis_url"), NodeLimiter(tmp_path / "fb.bin"), key_prefix=prefix
            )
        made.append(limiter)
        return limiter

    yield build
    for limiter in made:
        await limiter.aclose()


async def drive(limiter: Limiter, namespace: str, rate: int, burst: int, seconds: float, gap: float) -> int:
    return (await drive_counting(limiter, namespace, rate, burst, seconds, gap))[0]


async def drive_counting(
    limiter: Limiter, namespace: str, rate: int, burst: int, seconds: float, gap: float
) -> tuple[int, int]:
    """Requests every ``gap`` seconds for ``seconds``: (admitted, refused)."""
    admitted = refused = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        decision = limiter.acquire(namespace, rate, burst)
        if decision.admitted:
            admitted += 1
        else:
            assert decision.wait > 0 and decision.remaining == 0
            refused += 1
        await asyncio.sleep(gap)
    return admitted, refused


async def test_the_burst_then_refusals_then_the_rate(make: Make) -> None:
    limiter = make()
    first, refused = await drive_counting(limiter, "acme", 20, 20, 0.2, 0.001)
    assert 20 <= first <= 20 + 4 + 1, first  # the burst, ~4 refilled in 0.2 s, one on credit
    assert refused > 10  # asked far more often than the bucket refills
    more = await drive(limiter, "acme", 20, 20, 1.0, 0.001)
    assert 16 <= more <= 22, more
    assert limiter.health() == "ok"


async def test_two_processes_share_one_limit(make: Make) -> None:
    one, two = make(), make()
    counts = await asyncio.gather(
        drive(one, "shared", 100, 100, 2.0, 0.0005), drive(two, "shared", 100, 100, 2.0, 0.0005)
    )
    expected = 100 + 2.0 * 100
    assert abs(sum(counts) - expected) <= 0.1 * expected, counts
    assert min(counts) > 0.1 * expected, counts  # both get a share


async def test_workspaces_do_not_share(make: Make) -> None:
    limiter = make()
    assert await drive(limiter, "a", 5, 5, 0.1, 0.001) <= 6
    assert await drive(limiter, "b", 5, 5, 0.1, 0.001) >= 5


async def test_remaining_counts_down(make: Make) -> None:
    limiter = make()
    seen = []
    for _ in range(30):
        decision = limiter.acquire("acme", 10, 1000)
        seen.append(decision.remaining)
        await asyncio.sleep(0.002)
    assert seen[-1] < seen[5] <= 1000
