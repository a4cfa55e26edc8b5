"""The transform pool's admission: start now, wait at most ``queue_timeout``, or be refused at once; and the
run deadline handed to every transform."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest

from gateway.delivery.pool import GRACE, TransformPool
from gateway.errors import Overloaded, RenderTimeout

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gate() -> AsyncIterator[threading.Event]:
    """Released at the end of every test, so no transform thread outlives it."""
    event = threading.Event()
    yield event
    event.set()


def held(gate: threading.Event, seconds: float = 30.0) -> Callable[[float | None], str]:
    """A transform that holds its thread until ``gate`` opens."""

    def work(deadline: float | None) -> str:
        gate.wait(seconds)
        return "held"

    return work


def takes(seconds: float) -> Callable[[float | None], float]:
    def work(deadline: float | None) -> float:
        time.sleep(seconds)
        return seconds

    return work


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def test_a_free_thread_starts_the_transform_with_its_deadline() -> None:
    pool = TransformPool(threads=1, queue=4, queue_timeout=1.0, run_timeout=5.0)
    try:
        before = time.monotonic()
        deadline = await pool.run(lambda deadline: deadline)
        assert deadline is not None and before + 5.0 <= deadline <= time.monotonic() + 5.0
        assert await TransformPool(threads=1, queue=1).run(lambda deadline: deadline) is None  # no run_timeout
    finally:
        pool.shutdown()


async def test_a_waiter_starts_when_the_thread_frees(gate: threading.Event) -> None:
    pool = TransformPool(threads=1, queue=4, queue_timeout=5.0)
    try:
        first = asyncio.create_task(pool.run(held(gate)))
        await until(lambda: pool.running == 1)
        second = asyncio.create_task(pool.run(lambda deadline: "second"))
        await until(lambda: pool.waiting == 1)
        gate.set()
        assert (await first, await second) == ("held", "second")
        assert (pool.running, pool.waiting) == (0, 0)
    finally:
        pool.shutdown()


async def test_a_full_queue_is_refused_at_once_with_retry_after(gate: threading.Event) -> None:
    pool = TransformPool(threads=1, queue=1, queue_timeout=5.0)
    try:
        running = asyncio.create_task(pool.run(held(gate)))
        await until(lambda: pool.running == 1)
        waiting = asyncio.create_task(pool.run(lambda deadline: "waited"))
        await until(lambda: pool.waiting == 1)
        started = time.monotonic()
        with pytest.raises(Overloaded) as refused:
            await pool.run(lambda deadline: "refused")
        assert time.monotonic() - started < 0.5
        assert int(refused.value.headers["Retry-After"]) >= 1
        gate.set()
        assert (await running, await waiting) == ("held", "waited")
    finally:
        pool.shutdown()


async def test_a_request_that_waited_queue_timeout_is_refused(gate: threading.Event) -> None:
    pool = TransformPool(threads=1, queue=8, queue_timeout=0.3)
    try:
        running = asyncio.create_task(pool.run(held(gate)))
        await until(lambda: pool.running == 1)
        started = time.monotonic()
        with pytest.raises(Overloaded) as refused:
            await pool.run(lambda deadline: "never")
        assert 0.25 <= time.monotonic() - started < 2.0
        assert refused.value.headers["Retry-After"].isdigit()
        assert pool.waiting == 0
        gate.set()
        assert await running == "held"
        assert await pool.run(lambda deadline: "after") == "after"  # the refusal kept no slot
    finally:
        pool.shutdown()


async def test_a_request_the_queue_could_not_start_in_time_is_refused_at_once(gate: threading.Event) -> None:
    # Before, every request within the queue length was admitted and waited its turn, however long.
    pool = TransformPool(threads=1, queue=64, queue_timeout=1.0)
    try:
        await pool.run(takes(0.6))  # the recent transform time: 0.6 s
        running = asyncio.create_task(pool.run(held(gate)))
        await until(lambda: pool.running == 1)
        waiting = asyncio.create_task(pool.run(lambda deadline: "waited"))  # one transform ahead: 0.6 s, admitted
        await until(lambda: pool.waiting == 1)
        started = time.monotonic()
        with pytest.raises(Overloaded) as refused:
            await pool.run(lambda deadline: "refused")  # two ahead: 1.2 s, over queue_timeout
        assert time.monotonic() - started < 0.2
        assert refused.value.headers["Retry-After"] == "2"
        gate.set()
        assert (await running, await waiting) == ("held", "waited")
    finally:
        pool.shutdown()


async def test_a_transform_past_its_deadline_is_answered_and_holds_its_slot_till_it_ends(gate: threading.Event) -> None:
    # The function ignores its deadline, as an encode libvips cannot stop does.
    pool = TransformPool(threads=1, queue=4, queue_timeout=10.0, run_timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(RenderTimeout):
            await pool.run(held(gate))
        assert 0.2 + GRACE <= time.monotonic() - started < 0.2 + GRACE + 1.5
        assert pool.running == 1  # the thread is still busy: nobody else is told it is free
        queued = asyncio.create_task(pool.run(lambda deadline: "next"))
        await until(lambda: pool.waiting == 1)
        gate.set()
        assert await queued == "next"
        await until(lambda: pool.running == 0)
    finally:
        pool.shutdown()


async def test_a_cancelled_waiter_leaves_no_slot_behind(gate: threading.Event) -> None:
    pool = TransformPool(threads=1, queue=4, queue_timeout=10.0)
    try:
        running = asyncio.create_task(pool.run(held(gate)))
        await until(lambda: pool.running == 1)
        waiter = asyncio.create_task(pool.run(lambda deadline: "gone"))
        await until(lambda: pool.waiting == 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.set()
        await running
        await until(lambda: pool.running == 0)
        assert await pool.run(lambda deadline: "free") == "free"
    finally:
        pool.shutdown()
