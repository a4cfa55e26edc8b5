"""A full transform queue answers 503 OVERLOADED with Retry-After, and the server recovers."""

from __future__ import annotations

import asyncio
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
