"""Purge through the admin layer: stored outputs of every source kind deleted, a marker for memory tiers."""

from __future__ import annotations

import dataclasses
import time

import pytest

from gateway import admin
from gateway.admin import AdminContext, Conflict
from gateway.admin.purge import PURGE_MARKERS_KEPT
from gateway.admin.workspaces import load
from gateway.cache.keys import cache_key
from gateway.cache.results import CachedResult
from tests.gateway.admin.racing import InterleavingStore

pytestmark = pytest.mark.anyio

OUTPUTS = {
    ("acme", "o", "products/shoe.jpg"),
    ("acme", "o", "banners/top.jpg"),
    ("acme", "src", "https://cdn.example.com/products/a.jpg"),
    ("acme", "src", "https://cdn.example.com/other/b.jpg"),
    ("acme", "cap", "https://shop.example.com/pricing"),
    ("other", "o", "products/shoe.jpg"),
    ("other", "src", "https://cdn.example.com/products/a.jpg"),
}


async def stored(ctx: AdminContext) -> set[tuple[str, str, str]]:
    found = set()
    for namespace, kind, source_key in OUTPUTS:
        if await ctx.results.get(cache_key(namespace, kind, source_key, f"id:{source_key}", "w=10")) is not None:
            found.add((namespace, kind, source_key))
    return found


@pytest.fixture
async def outputs(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "other")
    now = time.time()
    for namespace, kind, source_key in OUTPUTS:
        entry = CachedResult(data=b"img", content_type="image/png", created_at=now, expires_at=now + 600)
        await ctx.results.put(cache_key(namespace, kind, source_key, f"id:{source_key}", "w=10"), entry)
    assert await stored(ctx) == OUTPUTS


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("products/", "o"),
        ("https://cdn.example.com/products/", "src"),
        ("https://shop.example.com/", "cap"),
    ],
)
async def test_a_prefix_purges_that_prefix_of_every_kind(
    ctx: AdminContext, outputs: None, prefix: str, kind: str
) -> None:
    gone = {output for output in OUTPUTS if output[0] == "acme" and output[2].startswith(prefix)}
    assert {output[1] for output in gone} == {kind}
    result = await admin.purge(ctx, "acme", prefix)
    assert result.removed == len(gone) == 1
    assert await stored(ctx) == OUTPUTS - gone
    workspace = await load(ctx, "acme")
    assert workspace.purged_after(next(iter(gone))[2]) == result.at
    assert workspace.purged_after("banners/top.jpg") == workspace.created_at  # only its creation


async def test_no_prefix_purges_the_whole_workspace_only(ctx: AdminContext, outputs: None) -> None:
    result = await admin.purge(ctx, "acme")
    assert result.removed == 5
    assert await stored(ctx) == {output for output in OUTPUTS if output[0] == "other"}
    assert (await load(ctx, "acme")).purged_after("anything") == result.at


async def test_markers_are_bounded(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    for index in range(PURGE_MARKERS_KEPT + 5):
        await admin.purge(ctx, "acme", f"p{index}/")
    markers = (await load(ctx, "acme")).purges
    assert len(markers) == PURGE_MARKERS_KEPT and markers[-1].prefix == f"p{PURGE_MARKERS_KEPT + 4}/"


async def test_a_purge_that_loses_a_race_reads_again_and_keeps_both_changes(ctx: AdminContext) -> None:
    store = InterleavingStore("pro")
    racing = dataclasses.replace(ctx, store=store)
    await admin.create_workspace(racing, "acme")
    store.times = 1
    result = await admin.purge(racing, "acme", "products/")
    workspace = await load(racing, "acme")
    assert workspace.plan == "pro" and workspace.purged_after("products/a.jpg") == result.at
    store.times = 2
    with pytest.raises(Conflict):
        await admin.purge(racing, "acme", "banners/")
