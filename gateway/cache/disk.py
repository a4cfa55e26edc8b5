"""The disk result store: rendered outputs as files under one folder, bounded by size.

An entry is the file ``<root>/<key>``: one JSON header line (content type, vary, render time, expiry,
length) then the bytes. Keys come from ``gateway.cache.keys`` (``acme/img/products/shoe.jpg/3fa2…``):
segments of ``[A-Za-z0-9%._~-]``, never "." or "..", so no key can name a path outside the root, and
a purge of a workspace or a key prefix is a walk of one sub-folder.

- Writes are atomic: a temporary file in the same folder, then ``os.replace``. A reader sees the
  old entry or the new one, never half of one, also across worker processes sharing the folder.
- Expired or damaged entries read as misses and are deleted then.
- The size bound is kept by a sweep that deletes the least recently used files (by mtime, which a
  hit refreshes at most every few minutes) until the folder is under 90 % of ``max_bytes``. Between
  sweeps each process keeps a running total of what it wrote; the sweep measures the real total.
- All file IO runs in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from gateway.cache.results import CachedResult, check_key, check_prefix

log = logging.getLogger(__name__)

# "+" never occurs in a key, so a temporary file can never be mistaken for an entry or collide with one.
_TEMP_PREFIX = "+tmp-"
_MAX_HEADER = 4096
# A hit rewrites the file's mtime (its "last used" time) at most this often: a syscall per hit is cheap,
# one per hit per second is not needed for an LRU whose granularity is a sweep.
_TOUCH_AFTER = 600.0
# Temporary files older than this were left by a crashed writer.
_STALE_TEMP = 3600.0
_LOW_WATER = 0.9


class DiskResultStore:
    kind = "disk"

    def __init__(self, root: Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._root = root
        self._max_bytes = max_bytes
        self._counter_lock = threading.Lock()
        self._sweep_lock = threading.Lock()
        # None until first measured; afterwards the last sweep's total plus what this process wrote since.
        self._approx_bytes: int | None = None
        self._written_since_sweep = 0

    async def get(self, key: str) -> CachedResult | None:
        path = self._root / check_key(key)
        return await asyncio.to_thread(self._read, path)

    async def put(self, key: str, result: CachedResult) -> None:
        path = self._root / check_key(key)
        if result.expires_at <= time.time():
            return
        await asyncio.to_thread(self._write_then_maybe_sweep, path, result)

    async def purge(self, prefix: str) -> int:
        return await asyncio.to_thread(self._purge, check_prefix(prefix))

    async def healthy(self) -> bool:
        return await asyncio.to_thread(self._probe)

    async def aclose(self) -> None:
        return None

    async def sweep(self) -> None:
        """Measure the folder and delete least recently used entries if it is over the bound."""
        await asyncio.to_thread(self._sweep)

    # -- in worker threads ---------------------------------------------------------------------

    def _read(self, path: Path) -> CachedResult | None:
        try:
            with open(path, "rb") as file:
                header_line = file.readline(_MAX_HEADER)
                data = file.read()
                modified = os.fstat(file.fileno()).st_mtime
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            log.warning("disk result store: read failed (%s)", type(exc).__name__)
            return None
        result = _decode(header_line, data)
        now = time.time()
        if result is None or result.expires_at <= now:
            _unlink_quietly(path)
            return None
        if now - modified > _TOUCH_AFTER:
            try:
                os.utime(path)
            except OSError:
                pass  # a concurrent purge or sweep removed it: the hit stands
        return result

    def _write_then_maybe_sweep(self, path: Path, result: CachedResult) -> None:
        try:
            size = self._write(path, result)
        except OSError as exc:
            # A result store is a cache: a failed write costs a future transform, not this response.
            log.warning("disk result store: write failed (%s)", type(exc).__name__)
            return
        with self._counter_lock:
            self._written_since_sweep += size
            due = (
                self._approx_bytes is None
                or self._approx_bytes + self._written_since_sweep > self._max_bytes
                # Other processes write to the same folder unseen: re-measure now and then.
                or self._written_since_sweep > self._max_bytes // 10
            )
        if due:
            self._sweep()

    def _write(self, path: Path, result: CachedResult) -> int:
        header = {
            "content_type": result.content_type,
            "vary": result.vary,
            "created_at": result.created_at,
            "expires_at": result.expires_at,
            "length": len(result.data),
        }
        encoded = json.dumps(header, separators=(",", ":")).encode() + b"\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(encoded)
                file.write(result.data)
            os.replace(temp_name, path)
        except BaseException:
            _unlink_quietly(Path(temp_name))
            raise
        return len(encoded) + len(result.data)

    def _sweep(self) -> None:
        # One sweep at a time per process; a put that finds one running just goes on.
        if not self._sweep_lock.acquire(blocking=False):
            return
        try:
            total = self._measure_and_evict()
            with self._counter_lock:
                self._approx_bytes = total
                self._written_since_sweep = 0
        finally:
            self._sweep_lock.release()

    def _measure_and_evict(self) -> int:
        now = time.time()
        entries: list[tuple[float, int, str]] = []
        total = 0
        for folder, _dirs, names in os.walk(self._root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except FileNotFoundError:
                    continue
                if name.startswith(_TEMP_PREFIX):
                    if now - stat.st_mtime > _STALE_TEMP:
                        _unlink_quietly(Path(path))
                        continue
                else:
                    entries.append((stat.st_mtime, stat.st_size, path))
                total += stat.st_size
        if total <= self._max_bytes:
            return total
        target = int(self._max_bytes * _LOW_WATER)
        entries.sort()
        for _mtime, size, path in entries:
            if total <= target:
                break
            _unlink_quietly(Path(path))
            total -= size
        return total

    def _purge(self, prefix: str) -> int:
        folder, _, partial = prefix.rpartition("/")
        base = self._root / folder if folder else self._root
        try:
            children = [entry for entry in os.scandir(base) if entry.name.startswith(partial)]
        except (FileNotFoundError, NotADirectoryError):
            return 0
        removed = 0
        for child in children:
            if child.is_dir(follow_symlinks=False):
                removed += _remove_tree(child.path)
            elif _unlink_quietly(Path(child.path)) and not child.name.startswith(_TEMP_PREFIX):
                removed += 1
        with self._counter_lock:
            self._approx_bytes = None  # re-measure at the next write
        return removed

    def _probe(self) -> bool:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self._root, prefix=_TEMP_PREFIX) as file:
                file.write(b"ok")
        except OSError:
            return False
        return True


def _decode(header_line: bytes, data: bytes) -> CachedResult | None:
    if not header_line.endswith(b"\n"):
        return None
    try:
        header = json.loads(header_line)
        content_type, vary = header["content_type"], header["vary"]
        # An entry written before render times were kept has no created_at: a miss, since nothing then
        # proves it newer than a purge marker; the next render writes it again with one.
        created_at, expires_at, length = header["created_at"], header["expires_at"], header["length"]
    except (ValueError, KeyError, TypeError):
        return None
    valid = (
        isinstance(content_type, str)
        and isinstance(vary, str)
        and _is_number(created_at)
        and _is_number(expires_at)
        and length == len(data)  # a file cut short (crash, full disk) is a miss, not a broken image
    )
    if not valid:
        return None
    return CachedResult(
        data=data,
        content_type=content_type,
        created_at=float(created_at),
        expires_at=float(expires_at),
        vary=vary,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _remove_tree(path: str) -> int:
    removed = 0
    for folder, _dirs, names in os.walk(path, topdown=False):
        for name in names:
            if _unlink_quietly(Path(folder, name)) and not name.startswith(_TEMP_PREFIX):
                removed += 1
        try:
            os.rmdir(folder)
        except OSError:
            pass  # a concurrent writer just created a file here; its entry stays
    return removed


def _unlink_quietly(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("disk result store: delete failed (%s)", type(exc).__name__)
        return False
    return True
