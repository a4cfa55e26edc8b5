"""The ``ResultStore`` contract: one suite that every result store runs.

A backend's test module subclasses ``ResultStoreContract`` and provides a ``results`` fixture (a new, empty
store). Tests marked ``capability("stores_entries")`` run only against stores that keep what they are given
(not ``NullResultStore``); the runner decides which backends have which capability (``test_results_contract``
does so in ``pytest_generate_tests``). What the suite checks is what the render path and ``imgate purge`` rely
on: every field comes back as written (``created_at`` included: it decides whether a hit predates a purge), an
expired entry is never returned, a purge removes exactly its prefix, and no key outside the grammar is taken.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.cache.keys import cache_key, key_prefix
from gateway.cache.results import CachedResult, ResultStore

stores_entries = pytest.mark.capability("stores_entries")

BAD_KEYS = (
    "",
    "/acme/x",
    "acme/../etc/passwd",
    "acme/./x",
    "..",
    "acme//x",
    "acme/x/",
    "acme/x y",
    "acme\\x",
    "acme/+tmp-x",
    "acme/x\x00",
)


def key(namespace: str = "acme", kind: str = "o", source_key: str = "products/shoe.jpg", variant: str = "w=640") -> str:
    return cache_key(namespace, kind, source_key, f"identity:{source_key}", variant)


def result(
    data: bytes = b"rendered",
    *,
    ttl: float = 3600.0,
    created_at: float | None = None,
    content_type: str = "image/webp",
    vary: str = "",
) -> CachedResult:
    now = time.time()
    return CachedResult(
        data=data,
        content_type=content_type,
        created_at=now if created_at is None else created_at,
        expires_at=now + ttl,
        vary=vary,
    )


@pytest.mark.anyio
class ResultStoreContract:
    # -- every store ---------------------------------------------------------------------------------

    async def test_names_its_kind(self, results: ResultStore) -> None:
        assert results.kind in ("disk", "s3", "memory", "none")

    async def test_an_unknown_key_is_a_miss(self, results: ResultStore) -> None:
        assert await results.get(key()) is None

    async def test_an_expired_result_is_never_kept(self, results: ResultStore) -> None:
        await results.put(key(), result(ttl=-1))
        assert await results.get(key()) is None

    async def test_refuses_keys_outside_the_grammar(self, results: ResultStore) -> None:
        for bad in BAD_KEYS:
            with pytest.raises(ValueError):
                await results.get(bad)
            with pytest.raises(ValueError):
                await results.put(bad, result())
        for bad in ("../", "/acme", "acme//", "acme/x y"):
            with pytest.raises(ValueError):
                await results.purge(bad)

    async def test_purging_nothing_removes_nothing(self, results: ResultStore) -> None:
        assert await results.purge("nobody/") == 0
        assert await results.purge("") == 0

    async def test_is_healthy(self, results: ResultStore) -> None:
        assert await results.healthy()

    # -- stores that keep entries ------------------------------------------------------------------

    @stores_entries
    async def test_round_trip_with_every_field(self, results: ResultStore) -> None:
        stored = result(
            b"\x00\xffbytes\nwith newlines\n" * 50,
            created_at=1_700_000_000.123456,
            content_type="image/avif",
            vary="Accept",
        )
        await results.put(key(), stored)
        assert await results.get(key()) == stored
        assert await results.get(key(variant="w=320")) is None

    @stores_entries
    async def test_created_at_round_trips_exactly(self, results: ResultStore) -> None:
        # The render path compares it with purge markers: a rounded time could turn a purged entry into a hit.
        for index, created_at in enumerate((time.time(), 0.1 + 0.2, 1e9 + 0.000123)):
            await results.put(key(variant=str(index)), result(created_at=created_at))
            got = await results.get(key(variant=str(index)))
            assert got is not None and got.created_at == created_at

    @stores_entries
    async def test_put_replaces(self, results: ResultStore) -> None:
        await results.put(key(), result(b"old", created_at=1.0))
        newer = result(b"new", created_at=2.0, content_type="image/png")
        await results.put(key(), newer)
        assert await results.get(key()) == newer

    @stores_entries
    async def test_an_entry_is_not_returned_once_expired(self, results: ResultStore) -> None:
        await results.put(key(), result(ttl=1.0))
        assert await results.get(key()) is not None
        await asyncio.sleep(1.1)
        assert await results.get(key()) is None

    @stores_entries
    async def test_purge_removes_exactly_its_prefix_across_kinds(self, results: ResultStore) -> None:
        keys = {
            "shoe": key("acme", "o", "products/shoe.jpg"),
            "shoe-small": key("acme", "o", "products/shoe.jpg", variant="w=100"),
            "hat": key("acme", "o", "products/hat.jpg"),
            "team": key("acme", "o", "about/team.jpg"),
            "cdn": key("acme", "src", "https://cdn.example.com/a.jpg"),
            "other-host": key("acme", "src", "https://img.example.org/a.jpg"),
            "capture": key("acme", "cap", "https://www.example.com/"),
            "neighbour": key("acme-2", "o", "products/shoe.jpg"),
            "globex": key("globex", "o", "products/shoe.jpg"),
        }
        for name, entry_key in keys.items():
            await results.put(entry_key, result(name.encode()))

        async def present() -> set[str]:
            return {name for name, entry_key in keys.items() if await results.get(entry_key) is not None}

        # A prefix ending inside a segment covers the keys it starts, and only those.
        assert await results.purge(key_prefix("acme", "o", "products/sh")) == 2
        assert await present() == set(keys) - {"shoe", "shoe-small"}
        assert await results.purge(key_prefix("acme", "src", "https://cdn.example.com/")) == 1
        assert await present() == set(keys) - {"shoe", "shoe-small", "cdn"}
        # The whole workspace, every kind, and not the workspace whose name it begins.
        assert await results.purge(key_prefix("acme", "")) == 4
        assert await present() == {"neighbour", "globex"}
        assert await results.purge(key_prefix("acme", "")) == 0
        assert await results.purge("") == 2
        assert await present() == set()
