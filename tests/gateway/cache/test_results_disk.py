"""The disk result store on a real folder: what only it has (files, atomic writes, the size bound, damage).

The behaviour every result store shares is in ``results_contract.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path

import pytest

from gateway.cache.disk import DiskResultStore
from gateway.cache.results import CachedResult

pytestmark = pytest.mark.anyio

KEY = "acme/img/products/shoe.jpg/" + "a" * 40


def result(data: bytes = b"rendered", ttl: float = 3600.0, vary: str = "") -> CachedResult:
    now = time.time()
    return CachedResult(data=data, content_type="image/webp", created_at=now, expires_at=now + ttl, vary=vary)


def entry_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


async def test_another_process_on_the_folder_sees_entries(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 10_000_000)
    stored = result(b"\x00\xffbytes\nwith newlines\n", vary="Accept")
    await store.put(KEY, stored)
    # A second store on the same folder (another worker process) sees it too.
    assert await DiskResultStore(tmp_path, 10_000_000).get(KEY) == stored
    assert entry_files(tmp_path) == [tmp_path / KEY]


async def test_overwrite_leaves_one_file(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 10_000_000)
    await store.put(KEY, result(b"old"))
    await store.put(KEY, result(b"new"))
    got = await store.get(KEY)
    assert got is not None and got.data == b"new"
    assert len(entry_files(tmp_path)) == 1


async def test_expired_entries_are_misses_and_removed(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 10_000_000)
    await store.put(KEY, result())
    path = tmp_path / KEY
    header, _, body = path.read_bytes().partition(b"\n")
    # Rewrite the expiry into the past, as if time had passed.
    past = header.replace(b'"expires_at":', b'"expires_at":1000,"old":')
    path.write_bytes(past + b"\n" + body)
    assert await store.get(KEY) is None
    assert not path.exists()
    # Already expired on arrival: never written.
    await store.put(KEY, result(ttl=-1))
    assert not path.exists()


async def test_damaged_entries_are_misses(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 10_000_000)
    await store.put(KEY, result(b"0123456789"))
    path = tmp_path / KEY
    path.write_bytes(path.read_bytes()[:-3])  # cut short, as by a full disk
    assert await store.get(KEY) is None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a header at all")
    assert await store.get(KEY) is None


async def test_entries_without_a_render_time_are_misses(tmp_path: Path) -> None:
    """Entries written before render times were kept: nothing proves them newer than a purge."""
    store = DiskResultStore(tmp_path, 10_000_000)
    path = tmp_path / KEY
    path.parent.mkdir(parents=True)
    header = {"content_type": "image/webp", "vary": "", "expires_at": time.time() + 3600, "length": 3}
    path.write_bytes(json.dumps(header).encode() + b"\nold")
    assert await store.get(KEY) is None
    assert not path.exists()
    # The next render writes it again, with its time.
    await store.put(KEY, result(b"new"))
    got = await store.get(KEY)
    assert got is not None and got.created_at > 0


@pytest.mark.parametrize("key", ["acme/../etc/passwd", "../etc/passwd", "/etc/passwd", "acme/../../etc/passwd"])
async def test_no_key_reaches_outside_the_root(tmp_path: Path, key: str) -> None:
    store = DiskResultStore(tmp_path / "root", 10_000_000)
    with pytest.raises(ValueError):
        await store.put(key, result())
    with pytest.raises(ValueError):
        await store.get(key)
    assert list(tmp_path.iterdir()) == []


async def test_writes_are_atomic(tmp_path: Path) -> None:
    """Readers racing a writer only ever see a whole old entry or a whole new one."""
    store = DiskResultStore(tmp_path, 100_000_000)
    first, second = b"A" * 400_000, b"B" * 400_000
    await store.put(KEY, result(first))
    stop = threading.Event()

    def write_loop() -> None:
        writer = DiskResultStore(tmp_path, 100_000_000)
        loop = asyncio.new_event_loop()
        try:
            for turn in range(40):
                loop.run_until_complete(writer.put(KEY, result(second if turn % 2 == 0 else first)))
        finally:
            loop.close()
            stop.set()

    thread = threading.Thread(target=write_loop)
    thread.start()
    while not stop.is_set():
        got = await store.get(KEY)
        assert got is not None
        assert got.data in (first, second)
    thread.join()
    # No temporary file is left behind and no other file appeared.
    assert [path.name for path in entry_files(tmp_path)] == [KEY.rsplit("/", 1)[1]]


async def test_sweep_keeps_the_folder_under_its_bound(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 50_000)
    keys = [f"acme/img/k{index}/" + f"{index:040d}" for index in range(30)]
    now = time.time()
    for index, key in enumerate(keys):
        await store.put(key, result(b"x" * 4_000))
        # Give the files distinct ages so least-recently-used is well defined.
        os.utime(tmp_path / key, (now - 1000 + index, now - 1000 + index))
    await store.sweep()
    total = sum(path.stat().st_size for path in entry_files(tmp_path))
    assert total <= 50_000
    # The newest entries survive, the oldest went first.
    assert await store.get(keys[-1]) is not None
    assert await store.get(keys[0]) is None


async def test_bound_holds_without_an_explicit_sweep(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 40_000)
    for index in range(60):
        await store.put(f"acme/img/k{index}/" + f"{index:040d}", result(b"y" * 2_000))
    total = sum(path.stat().st_size for path in entry_files(tmp_path))
    assert total <= 40_000


async def test_a_hit_counts_as_use(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 8_000)  # room for two entries of ~3.1 kB, not three
    old, new = "acme/img/old/" + "1" * 40, "acme/img/new/" + "2" * 40
    await store.put(old, result(b"o" * 3_000))
    await store.put(new, result(b"n" * 3_000))
    long_ago = time.time() - 7200
    os.utime(tmp_path / old, (long_ago, long_ago))
    os.utime(tmp_path / new, (long_ago + 60, long_ago + 60))
    assert await store.get(old) is not None  # refreshes "old"'s last use
    await store.put("acme/img/third/" + "3" * 40, result(b"t" * 3_000))
    await store.sweep()
    assert await store.get(old) is not None
    assert await store.get(new) is None


async def test_purge_deletes_the_files_and_counts_no_temporary_file(tmp_path: Path) -> None:
    store = DiskResultStore(tmp_path, 10_000_000)
    for key in ("acme/img/products/shoe.jpg/" + "1" * 40, "acme-2/img/products/shoe.jpg/" + "5" * 40):
        await store.put(key, result())
    # A writer's unfinished temporary file in the purged folder goes too, but is no entry.
    (tmp_path / "acme/img/products/shoe.jpg/+tmp-unfinished").write_bytes(b"half")
    assert await store.purge("acme/") == 1
    assert entry_files(tmp_path) == [tmp_path / "acme-2/img/products/shoe.jpg" / ("5" * 40)]
    assert await store.purge("") == 1
    assert entry_files(tmp_path) == []


async def test_health_follows_writability(tmp_path: Path) -> None:
    assert await DiskResultStore(tmp_path / "new", 1000).healthy()
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    # A root that cannot exist (its parent is a file) is unhealthy, and writes to it fail quietly.
    broken = DiskResultStore(blocker / "root", 1000)
    assert not await broken.healthy()
    await broken.put(KEY, result())
    assert await broken.get(KEY) is None
