"""After a burst of large renders, a worker gives its memory back: RSS returns near its idle figure.

The renders are of a 5120x2880 progressive JPEG, whose decoder holds ~90 MB until its image is closed. A worker
that kept each render's images until a later cyclic collection (or whose allocator kept the freed pages) held
hundreds of MB after such a burst; the bound below leaves room for a loaded machine but not for that.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import pyvips

from bench.rss import tree_rss_bytes
from gateway.accounts.models import Workspace
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
RENDERS = 16
CONCURRENCY = 4
# What the worker may keep over its idle figure once the burst is over: its caches' share of the burst (an
# original of a few MB, sixteen outputs of ~100 KB) and allocator slack. Keeping each render's decoder would
# be ~90 MB a render.
KEPT_BOUND = 64 * MIB
# Long enough for the pool's idle trim (a quarter second after the last transform) on a loaded machine; short
# enough that the next cyclic collection, whenever the worker's own housekeeping triggers it, is not what passes.
SETTLE_S = 3.0


def _large_progressive(images_dir: Path, folder: Path) -> None:
    photo = pyvips.Image.new_from_file(str(images_dir / "photo-kite.jpg"))
    large = photo.resize(5120 / photo.width, vscale=2880 / photo.height)
    large.jpegsave(str(folder / "large-progressive.jpg"), Q=90, interlace=True, subsample_mode="off")


async def _burst(base: str) -> list[int]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(client: httpx.AsyncClient, index: int) -> int:
        async with limit:
            response = await client.get(f"{base}/demo/large-progressive.jpg?w=1200&fm=jpg&v=burst-{index}")
            return response.status_code

    async with httpx.AsyncClient(timeout=120) as client:
        return await asyncio.gather(*(one(client, index) for index in range(RENDERS)))


def test_rss_returns_near_idle_after_a_burst_of_large_renders(tmp_path: Path, images_dir: Path) -> None:
    originals = tmp_path / "originals"
    originals.mkdir()
    _large_progressive(images_dir, originals)
    gw = GatewayProcess(
        tmp_path / "gw",
        transform_threads="2",
        queue_timeout="120",
        transform_timeout="120",
        result_store="none",
    )
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(originals)}))
    with gw:
        # One render first, so that libvips, the pools and the originals cache belong to "idle".
        assert httpx.get(f"{gw.url}/demo/large-progressive.jpg?w=1200&fm=jpg&v=warm", timeout=120).status_code == 200
        time.sleep(1.0)
        idle = tree_rss_bytes([gw.process.pid])
        statuses = asyncio.run(_burst(gw.url))
        assert statuses == [200] * RENDERS
        deadline = time.monotonic() + SETTLE_S
        kept = tree_rss_bytes([gw.process.pid]) - idle
        while kept > KEPT_BOUND and time.monotonic() < deadline:
            time.sleep(0.5)
            kept = tree_rss_bytes([gw.process.pid]) - idle
        assert kept <= KEPT_BOUND, f"kept {kept // MIB} MiB over idle ({idle // MIB} MiB) after {RENDERS} renders"
