"""The S3 result store against moto in server mode: its layout, metadata, pages, outages and timeouts.

The behaviour every result store shares is in ``results_contract.py``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gateway.cache.results import CachedResult
from gateway.cache.s3 import S3ResultStore
from gateway.settings import Settings
from gateway.sources.s3 import S3OriginSettings
from tests.support.moto_server import DUMMY_KEY_ID, DUMMY_SECRET, MotoServer, new_bucket, s3_admin

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KEY = "acme/img/products/shoe.jpg/" + "a" * 40


def result(data: bytes = b"rendered", ttl: float = 3600.0, vary: str = "") -> CachedResult:
    now = time.time()
    return CachedResult(data=data, content_type="image/avif", created_at=now, expires_at=now + ttl, vary=vary)


def location(endpoint: str, bucket: str, prefix: str = "results/") -> S3OriginSettings:
    return S3OriginSettings(
        bucket=bucket,
        prefix=prefix,
        endpoint_url=endpoint,
        access_key_id=DUMMY_KEY_ID,
        secret_access_key=DUMMY_SECRET,
    )


@asynccontextmanager
async def open_store(settings: S3OriginSettings, **options: Any) -> AsyncIterator[S3ResultStore]:
    store = S3ResultStore(settings, **options)
    try:
        yield store
    finally:
        await store.aclose()


def object_keys(endpoint: str, bucket: str) -> list[str]:
    pages = s3_admin(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


async def test_an_entry_is_one_object_under_the_prefix(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    async with open_store(location(moto_endpoint, bucket)) as store:
        stored = result(b"\x00avif bytes", vary="Accept")
        await store.put(KEY, stored)
        assert await store.get(KEY) == stored
    assert object_keys(moto_endpoint, bucket) == ["results/" + KEY]
    head = s3_admin(moto_endpoint).head_object(Bucket=bucket, Key="results/" + KEY)
    assert head["ContentType"] == "image/avif"
    assert head["Metadata"] == {
        "created-at": repr(stored.created_at),
        "expires-at": repr(stored.expires_at),
        "vary": "Accept",
    }


async def test_a_miss_on_one_node_is_a_hit_on_another(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    async with (
        open_store(location(moto_endpoint, bucket)) as first,
        open_store(location(moto_endpoint, bucket)) as second,
    ):
        assert await second.get(KEY) is None
        await first.put(KEY, result(b"rendered once"))
        got = await second.get(KEY)
        assert got is not None and got.data == b"rendered once"
        assert await second.purge("acme/") == 1
        assert await first.get(KEY) is None


async def test_expired_and_foreign_objects_are_misses(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    admin = s3_admin(moto_endpoint)
    admin.put_object(
        Bucket=bucket, Key="results/" + KEY, Body=b"stale", ContentType="image/avif", Metadata={"expires-at": "1000.0"}
    )
    foreign = "acme/img/products/foreign.jpg/" + "c" * 40
    admin.put_object(Bucket=bucket, Key="results/" + foreign, Body=b"who wrote this?")
    # Written before render times were kept: nothing proves it newer than a purge marker.
    undated = "acme/img/products/undated.jpg/" + "e" * 40
    admin.put_object(
        Bucket=bucket,
        Key="results/" + undated,
        Body=b"old",
        ContentType="image/avif",
        Metadata={"expires-at": repr(time.time() + 3600), "vary": ""},
    )
    async with open_store(location(moto_endpoint, bucket)) as store:
        assert await store.get(KEY) is None
        assert await store.get(foreign) is None
        assert await store.get(undated) is None
        await store.put("acme/img/products/late.jpg/" + "d" * 40, result(ttl=-1))
    assert "results/acme/img/products/late.jpg/" + "d" * 40 not in object_keys(moto_endpoint, bucket)


async def test_purge_removes_a_prefix_page_by_page(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    # Small pages, so that a purge spans several listings and deletions as a large one does at 1000.
    async with open_store(location(moto_endpoint, bucket), purge_page_size=7) as store:
        keys = [f"acme/img/p{index:04d}.jpg/" + "e" * 40 for index in range(40)]
        for start in range(0, len(keys), 10):
            await asyncio.gather(*(store.put(key, result(b"x")) for key in keys[start : start + 10]))
        await store.put("acme-2/img/p.jpg/" + "f" * 40, result())
        await store.put("acme/img/keep.png/" + "f" * 40, result())
        assert await store.purge("acme/img/p") == 40
        assert await store.get("acme/img/keep.png/" + "f" * 40) is not None
        assert await store.purge("acme/") == 1
        assert await store.get("acme-2/img/p.jpg/" + "f" * 40) is not None
        assert await store.purge("acme/") == 0
    assert object_keys(moto_endpoint, bucket) == ["results/acme-2/img/p.jpg/" + "f" * 40]
    with pytest.raises(ValueError):
        S3ResultStore(location(moto_endpoint, bucket), purge_page_size=1001)


async def test_store_down_then_back(own_moto: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bucket = new_bucket(own_moto.endpoint)
    settings = location(own_moto.endpoint, bucket)
    async with open_store(settings, health_ttl=0, retry_after=0) as store:
        await store.put(KEY, result(b"before the outage"))
        assert await store.healthy()

        own_moto.stop()
        assert await store.get(KEY) is None  # a miss: the caller transforms instead
        await store.put("acme/img/during.jpg/" + "1" * 40, result())  # must not raise
        assert not await store.healthy()
        assert any("S3 result store" in record.getMessage() for record in caplog.records)

        own_moto.start()  # same port; moto's state lives in this process, so the bucket is still there
        assert await store.healthy()
        got = await store.get(KEY)
        assert got is not None and got.data == b"before the outage"
        await store.put("acme/img/after.jpg/" + "2" * 40, result(b"after"))
        assert await store.get("acme/img/after.jpg/" + "2" * 40) is not None
    for record in caplog.records:
        assert DUMMY_SECRET not in record.getMessage()


async def test_health_is_cached_for_a_moment(own_moto: MotoServer) -> None:
    bucket = new_bucket(own_moto.endpoint)
    async with open_store(location(own_moto.endpoint, bucket), health_ttl=3600) as store:
        assert await store.healthy()
        own_moto.stop()
        assert await store.healthy()  # the cached answer: /_/health must not hammer the store
        own_moto.start()


@asynccontextmanager
async def silent_store() -> AsyncIterator[tuple[str, list[int]]]:
    """Accepts connections, reads nothing, answers nothing; counts connections."""
    accepted: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writers.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", accepted
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_hanging_store_is_a_miss_and_then_skipped(aws_test_env: None) -> None:
    async with silent_store() as (endpoint, accepted):
        settings = location(endpoint, "silent-bucket")
        async with open_store(settings, read_timeout=0.3, write_timeout=0.3, retry_after=3600) as store:
            assert await store.get(KEY) is None
            assert len(accepted) == 1
            # Known to be down: the next requests do not wait for it again, and writes are skipped too.
            assert await store.get(KEY) is None
            await store.put(KEY, result())
            assert len(accepted) == 1


def test_from_settings_reads_the_result_s3_settings() -> None:
    settings = Settings(
        result_store="s3",
        result_s3_bucket="renders",
        result_s3_prefix="imgate",
        result_s3_endpoint="http://127.0.0.1:9000",
        result_s3_access_key_id="AKIARESULTS",
        result_s3_secret_access_key="results-secret",
    )
    where = S3ResultStore.from_settings(settings).location
    assert (where.bucket, where.prefix, where.endpoint_url) == ("renders", "imgate/", "http://127.0.0.1:9000")
    assert (where.access_key_id, where.secret_access_key) == ("AKIARESULTS", "results-secret")
    assert "results-secret" not in repr(where)
    assert (
        S3ResultStore.from_settings(Settings(result_store="s3", result_s3_bucket="renders")).location.access_key_id
        is None
    )
