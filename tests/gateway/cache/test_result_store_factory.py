"""``result_store`` chooses the result store; "none" is a store too."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cache.disk import DiskResultStore
from gateway.cache.factory import build_result_store
from gateway.cache.results import CachedResult, NullResultStore
from gateway.cache.s3 import S3ResultStore
from gateway.settings import Settings

pytestmark = pytest.mark.anyio


async def test_none_is_the_null_store_not_none() -> None:
    store = build_result_store(Settings(result_store="none"))
    assert isinstance(store, NullResultStore) and store.kind == "none"
    await store.put(
        "acme/o/x.jpg/" + "a" * 40, CachedResult(data=b"x", content_type="image/png", created_at=1.0, expires_at=9e9)
    )
    assert await store.get("acme/o/x.jpg/" + "a" * 40) is None


async def test_disk_uses_its_folder_and_bound(tmp_path: Path) -> None:
    store = build_result_store(
        Settings(result_store="disk", result_store_dir=str(tmp_path / "r"), result_store_max_mb=1)
    )
    assert isinstance(store, DiskResultStore) and store.kind == "disk"
    key = "acme/o/x.jpg/" + "a" * 40
    await store.put(key, CachedResult(data=b"x", content_type="image/png", created_at=1.0, expires_at=9e9))
    assert (tmp_path / "r" / key).is_file()
    # 1 MiB: an entry of 2 MiB cannot stay.
    await store.put(
        key, CachedResult(data=b"x" * 2 * 1024 * 1024, content_type="image/png", created_at=1.0, expires_at=9e9)
    )
    assert await store.get(key) is None
    await store.aclose()


async def test_s3_reads_the_result_s3_settings() -> None:
    store = build_result_store(Settings(result_store="s3", result_s3_bucket="renders", result_s3_prefix="out/"))
    assert isinstance(store, S3ResultStore) and store.kind == "s3"
    assert (store.location.bucket, store.location.prefix) == ("renders", "out/")
    await store.aclose()
