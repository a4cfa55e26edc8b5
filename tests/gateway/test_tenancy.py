from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.tenancy import Tenancy
from tests.support.memory_source import MemorySource


@pytest.mark.anyio
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

    import asyncio

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
