"""The resolve step: namespace -> tenant, validated first, through two bounded caches."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import tracemalloc
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.tenancy import Tenancy
from tests.support.memory_source import MemorySource

pytestmark = pytest.mark.anyio


class CountingStore(MemoryAccountStore):
    """The in-memory store, counting the lookups the tenancy cache makes."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def get_workspace(self, namespace: str) -> Workspace | None:
        self.lookups += 1
        return super().get_workspace(namespace)


def no_source(workspace: Workspace) -> None:
    return None


async def test_changes_show_after_the_ttl_and_sources_are_reused_until_then(tmp_path: Path) -> None:
    store = SqliteAccountStore(tmp_path / "a.sqlite3")
    ws = store.create_workspace(Workspace(namespace="acme", origin_kind="http", origin={"base_url": "https://x/"}))
    built: list[MemorySource] = []

    def build(workspace: Workspace) -> MemorySource:
        built.append(MemorySource({}))
        return built[-1]

    tenancy = Tenancy(store, build, ttl=0.05)
    first = await tenancy.get("acme")
    assert first is not None and first.source is built[0]
    assert await tenancy.get("acme") is first
    assert await tenancy.get("nobody") is None

    await asyncio.sleep(0.06)
    assert (await tenancy.get("acme")) is first  # same revision: same tenant, same source
    assert len(built) == 1

    store.update_workspace(dataclasses.replace(ws, plan="pro"))
    assert (await tenancy.get("acme")) is first  # still within the TTL
    await asyncio.sleep(0.06)
    second = await tenancy.get("acme")
    assert second is not None and second.workspace.plan == "pro" and second.source is built[1]

    store.update_workspace(dataclasses.replace(second.workspace, active=False))
    await asyncio.sleep(0.06)
    assert await tenancy.get("acme") is None
    await tenancy.aclose()
    assert all(source.closed for source in built)
    store.close()


@pytest.mark.parametrize(
    "namespace", ["", "a", "Acme", "-acme", "acme_1", "ac me", "acme/x", "ac\x00me", "é-acme", "a" * 64, "../acme"]
)
async def test_a_name_that_is_no_namespace_is_refused_before_any_lookup(namespace: str) -> None:
    store = CountingStore()
    tenancy = Tenancy(store, no_source, ttl=60)
    assert await tenancy.get(namespace) is None
    assert store.lookups == 0 and len(tenancy) == 0


async def test_unknown_namespaces_are_remembered_for_the_ttl_then_asked_again() -> None:
    store = CountingStore()
    tenancy = Tenancy(store, no_source, ttl=0.05)
    for _ in range(3):
        assert await tenancy.get("nobody") is None
    assert store.lookups == 1
    await asyncio.sleep(0.06)
    store.create_workspace(Workspace(namespace="nobody"))
    assert await tenancy.get("nobody") is not None
    assert store.lookups == 2
    await tenancy.aclose()


async def test_concurrent_lookups_of_one_namespace_ask_the_store_once() -> None:
    store = CountingStore()
    store.create_workspace(Workspace(namespace="acme"))
    tenancy = Tenancy(store, no_source, ttl=60)
    tenants = await asyncio.gather(*(tenancy.get("acme") for _ in range(20)))
    assert store.lookups == 1 and all(tenant is tenants[0] for tenant in tenants)
    await tenancy.aclose()


async def test_memory_stays_flat_under_100000_made_up_namespaces() -> None:
    # Before, every made-up namespace stayed in an unbounded dict (2,000 requests: 2,000 entries).
    store = CountingStore()
    store.create_workspace(Workspace(namespace="acme"))
    tenancy = Tenancy(store, no_source, ttl=3600, max_tenants=100, max_unknown=1000)
    acme = await tenancy.get("acme")
    assert acme is not None
    made_up = (f"made-up-{n}" for n in range(100_000))

    async def flood(count: int) -> None:
        for _ in range(count // 1000):
            await asyncio.gather(*(tenancy.get(next(made_up)) for _ in range(1000)))
            assert len(tenancy) <= 1 + 1000

    async def settled() -> int:
        for _ in range(3):  # let the last batch's tasks finish being torn down
            await asyncio.sleep(0)
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    await flood(94_000)
    # Traced over the last few thousand only (tracing makes every allocation slow): by then the cache holds
    # nothing but entries allocated while tracing, so what is still allocated after more namespaces is growth.
    tracemalloc.start()
    try:
        await flood(2000)
        before = await settled()
        await flood(4000)
        after = await settled()
    finally:
        tracemalloc.stop()
    assert after - before < 32 * 1024, f"grew by {after - before} bytes"
    assert store.lookups == 1 + 100_000
    # The flood did not push the real workspace out.
    assert tenancy.peek("acme") is acme
    await tenancy.aclose()


async def test_known_tenants_are_bounded_and_a_dropped_one_is_loaded_again() -> None:
    store = CountingStore()
    for name in ("aa", "bb", "cc"):
        store.create_workspace(Workspace(namespace=name))
    tenancy = Tenancy(store, no_source, ttl=60, max_tenants=2)
    first = await tenancy.get("aa")
    await tenancy.get("bb")
    await tenancy.get("cc")
    assert len(tenancy) == 2
    assert tenancy.peek("aa") is None  # refreshed longest ago: dropped
    again = await tenancy.get("aa")
    assert again is not None and again is not first and store.lookups == 4
    await tenancy.aclose()
