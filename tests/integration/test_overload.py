"""A full transform queue answers 503 OVERLOADED with Retry-After, and the server recovers."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import httpx
import pytest

from gateway.accounts.models import Workspace
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration


def test_overload_answers_503_with_retry_after(tmp_path: Path, images_dir: Path) -> None:
    gw = GatewayProcess(tmp_path / "gw", transform_threads="1", transform_queue="1", result_store="none")
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(images_dir)}))

    async def burst(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            urls = [f"{base}/demo/photo-path.jpg?w=1000&fm=avif&q=90&v={i}" for i in range(24)]
            return await asyncio.gather(*(client.get(url) for url in urls))

    with gw:
        responses = asyncio.run(burst(gw.url))
        statuses = [r.status_code for r in responses]
        assert 200 in statuses and 503 in statuses, statuses
        overloaded = next(r for r in responses if r.status_code == 503)
        assert overloaded.json()["error"]["code"] == "OVERLOADED"
        assert int(overloaded.headers["retry-after"]) >= 1
        assert overloaded.headers["cache-control"] == "no-store"
        # The refused request was not cached as an error: asked again, alone, it succeeds.
        retry = httpx.get(str(overloaded.request.url), timeout=60)
        assert retry.status_code == 200


def test_admitted_requests_are_answered_within_queue_timeout_and_one_transform(
    tmp_path: Path, images_dir: Path
) -> None:
    # Before, every request the queue had room for was admitted and waited its turn: at 21x capacity, admitted
    # requests waited over 10 s. Now one that cannot start within queue_timeout is refused at once.
    queue_timeout = 1.0
    gw = GatewayProcess(
        tmp_path / "gw",
        transform_threads="1",
        transform_queue="256",
        queue_timeout=str(queue_timeout),
        result_store="none",
    )
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(images_dir)}))
    slow = "/demo/photo-path.jpg?w=1000&fm=avif&q=90"

    async def timed(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = await client.get(url)
        return response, time.monotonic() - started

    async def burst(base: str, count: int) -> list[tuple[httpx.Response, float]]:
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(*(timed(client, f"{base}{slow}&v={i}") for i in range(count)))

    with gw:
        # One transform alone: its time, and the gateway's first measure of the recent transform time.
        ((alone, one_transform),) = asyncio.run(burst(gw.url, 1))
        assert alone.status_code == 200
        # Waiting at most queue_timeout, then one transform; slack for a busy machine.
        bound = queue_timeout + 2 * one_transform + 1.0
        # Enough requests that, served one by one, the last would wait twice the bound.
        count = min(200, max(16, math.ceil(2 * bound / one_transform)))
        answers = asyncio.run(burst(gw.url, count))
        statuses = [response.status_code for response, _ in answers]
        assert set(statuses) <= {200, 503} and 200 in statuses and 503 in statuses, statuses
        slowest = max(seconds for _, seconds in answers)
        assert slowest < bound, (slowest, bound, one_transform)
        for response, _ in answers:
            if response.status_code == 503:
                assert response.json()["error"]["code"] == "OVERLOADED"
                assert int(response.headers["retry-after"]) >= 1
                assert response.headers["cache-control"] == "no-store"
