"""The render step: result store, originals, transform, memory tier; purge markers on every tier."""

from __future__ import annotations

import time

import pytest
import pyvips

from gateway.accounts.models import PurgeMarker
from gateway.cache.results import CachedResult, NullResultStore
from tests.gateway.delivery.parts import PHOTOS, Parts, request
from tests.support.memory_source import MemorySource

pytestmark = pytest.mark.anyio
TARGET = "/acme/photo-grey.jpg?w=48&fm=webp"


async def node_beside(parts: Parts, **kwargs: object) -> Parts:
    """Another process with its own memory, sharing the account store, the result store and the origin."""
    return Parts(accounts=parts.accounts, results=parts.results, source=parts.source, **kwargs)  # type: ignore[arg-type]


async def test_an_output_rendered_on_one_node_is_a_store_hit_on_another(parts: Parts) -> None:
    rendered = await parts.path.serve(request(TARGET))
    await parts.renderer.drain()  # the write behind the response
    other = await node_beside(parts)
    try:
        stored = await other.path.serve(request(TARGET))
        assert (stored.tier, stored.body) == ("store", rendered.body)
        assert [h for h in stored.headers if h[0] != b"x-imgate-cache"] == [
            h for h in rendered.headers if h[0] != b"x-imgate-cache"
        ]
        again = await other.path.serve(request(TARGET))
        assert again.tier == "memory" and parts.source.fetches == 1
    finally:
        await other.aclose()


async def test_a_stored_output_older_than_a_purge_is_a_miss(parts: Parts) -> None:
    # Before, a result-store hit was served without looking at the purge markers: a purged output came
    # straight back from the store.
    await parts.path.serve(request(TARGET))
    await parts.renderer.drain()
    parts.change("acme", purges=(PurgeMarker("photo-", time.time()),))
    other = await node_beside(parts)
    try:
        after = await other.path.serve(request(TARGET))
        assert after.tier == "miss" and parts.source.fetches == 2
        await other.renderer.drain()
        newest = await parts.results.get(next(iter(await _keys(parts))))
        assert newest is not None and newest.created_at > parts.accounts.get_workspace("acme").purges[0].at  # type: ignore[union-attr]
    finally:
        await other.aclose()


async def test_a_memory_entry_older_than_a_purge_is_a_miss(parts: Parts) -> None:
    await parts.path.serve(request(TARGET))
    parts.change("acme", purges=(PurgeMarker("", time.time()),))
    # The same memory tier, with the workspace read again (as the tenancy cache does after its TTL).
    fresh = Parts(accounts=parts.accounts, results=NullResultStore(), memory=parts.memory, source=parts.source)  # type: ignore[arg-type]
    try:
        assert (await fresh.path.serve(request(TARGET))).tier == "miss"
    finally:
        await fresh.aclose()


async def test_a_purge_of_another_prefix_keeps_the_stored_output(parts: Parts) -> None:
    await parts.path.serve(request(TARGET))
    await parts.renderer.drain()
    parts.change("acme", purges=(PurgeMarker("other/", time.time()),))
    other = await node_beside(parts)
    try:
        assert (await other.path.serve(request(TARGET))).tier == "store"
    finally:
        await other.aclose()


async def test_without_a_result_store_every_new_process_renders() -> None:
    parts = Parts(results=NullResultStore())  # type: ignore[arg-type]
    parts.workspace("acme")
    try:
        assert (await parts.path.serve(request(TARGET))).tier == "miss"
        assert (await parts.path.serve(request(TARGET))).tier == "memory"
    finally:
        await parts.aclose()


class BrokenStore(NullResultStore):
    kind = "broken"

    async def get(self, key: str) -> CachedResult | None:
        raise OSError("the store is down")

    async def put(self, key: str, result: CachedResult) -> None:
        raise OSError("the store is down")


async def test_a_broken_result_store_costs_a_render_not_an_error() -> None:
    parts = Parts(results=BrokenStore())  # type: ignore[arg-type]
    parts.workspace("acme")
    try:
        answer = await parts.path.serve(request(TARGET))
        assert (answer.status, answer.tier) == (200, "miss")
        await parts.renderer.drain()
    finally:
        await parts.aclose()


async def _keys(parts: Parts) -> list[str]:
    tenant = await parts.tenancy.get("acme")
    assert tenant is not None
    plan = await parts.path._planner.plan(tenant, "photo-grey.jpg", b"w=48&fm=webp")
    return list(plan.keys.values())


def _slow_pattern() -> bytes:
    xyz = pyvips.Image.xyz(256, 256)
    image = ((xyz[0] ^ xyz[1]) % 256).cast("uchar").bandjoin([xyz[0].cast("uchar"), xyz[1].cast("uchar")])
    return bytes(image.copy(interpretation="srgb").pngsave_buffer())


async def test_a_transform_past_its_deadline_is_a_503_and_leaves_nothing_behind() -> None:
    # About 9 s of one core uninterrupted: upscaled to 8000x8000, blurred, PNG-compressed.
    query = b"w=8000&h=8000&fit=scale&blur=2000&fm=png&auto=compress"
    slow = "/acme/slow.png?" + query.decode()
    parts = Parts(source=MemorySource({**PHOTOS, "slow.png": _slow_pattern()}), run_timeout=0.3)
    parts.workspace("acme")
    try:
        started = time.monotonic()
        answer = await parts.path.serve(request(slow))
        assert time.monotonic() - started < 3.0
        assert (answer.status, answer.code) == (503, "RENDER_TIMEOUT")
        assert (b"cache-control", b"no-store") in answer.headers
        await parts.renderer.drain()
        tenant = await parts.tenancy.get("acme")
        assert tenant is not None
        (key,) = (await parts.path._planner.plan(tenant, "slow.png", query)).keys.values()
        assert len(parts.memory) == 0 and await parts.results.get(key) is None
        # The thread stopped with the transform: the next request is rendered at once.
        assert parts.pool.running == 0
        assert (await parts.path.serve(request(TARGET))).status == 200
    finally:
        await parts.aclose()
