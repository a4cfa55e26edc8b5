"""Export and deletion with ``usage_store = "redis"``: the counters live outside the account store, in a real
redis-server, and still go into the export and out with the workspace."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.usage import UsageCounts
from gateway.admin import AdminContext
from gateway.admin.errors import Unavailable
from gateway.usage.stores import usage_store
from loopback.ports import free_port
from tests.gateway.usage.redis_process import redis_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_ctx(ctx: AdminContext, redis_url: str) -> Iterator[AdminContext]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()  # the module shares one server: every test starts with no counters
    client.close()
    yield dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, usage_store="redis", redis_url=redis_url))


def usage_keys(url: str, namespace: str) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(client.scan_iter(match=f"imgate:usage:{namespace}:*"))
    finally:
        client.close()


async def test_the_export_and_the_receipt_hold_the_redis_counters_and_deletion_drops_them(
    redis_ctx: AdminContext, store: MemoryAccountStore, redis_url: str
) -> None:
    for namespace in ("acme", "acme-eu"):
        await admin.create_workspace(redis_ctx, namespace)
    usage = usage_store(redis_ctx.settings, store)
    assert usage is not store.usage
    today = datetime.now(UTC).date()
    # More than one ranged read apart (366 days at most), inside Redis' 400-day expiry.
    old, new = today - timedelta(days=380), today
    usage.add("acme", old, UsageCounts(requests=4, errors={"NOT_FOUND": 2}))
    usage.add("acme", new, UsageCounts(requests=6, renders=1, bytes_out=70))
    usage.add("acme-eu", new, UsageCounts(requests=9))
    assert store.usage.all_days("acme") == []  # nothing in the account store: the export must read Redis

    document = await admin.export_workspace(redis_ctx, "acme")
    assert [(day["day"], day["requests"], day["errors"]) for day in document["usage"]] == [
        (old.isoformat(), 4, {"NOT_FOUND": 2}),
        (new.isoformat(), 6, {}),
    ]
    assert len(usage_keys(redis_url, "acme")) == 2

    receipt = await admin.delete_workspace_with_receipt(redis_ctx, "acme")
    assert receipt.removed["usage_days"] == 2
    assert usage_keys(redis_url, "acme") == []
    assert [u.requests for u in usage.all_days("acme-eu")] == [9]  # a namespace that starts with the same name
    assert await admin.verify_receipt(redis_ctx, receipt.as_dict())


async def test_a_redis_that_is_away_stops_the_deletion_before_anything_is_gone(
    ctx: AdminContext, store: MemoryAccountStore
) -> None:
    await admin.create_workspace(ctx, "acme")
    away = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    down = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, usage_store="redis", redis_url=away))
    # Said as the admin layer's Unavailable (503 STORE_UNAVAILABLE over HTTP), caused by Redis's own error.
    with pytest.raises(Unavailable) as away_error:
        await admin.delete_workspace_with_receipt(down, "acme")
    assert isinstance(away_error.value.__cause__, redis.ConnectionError)
    assert store.get_workspace("acme") is not None
