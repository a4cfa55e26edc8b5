"""``LocalSource``: originals in a folder on the gateway's own disk.

A key is a relative ``/``-separated path under the root, as the router decoded it (once). Refused as
``NotFound``, so a probe learns nothing about the disk:

- empty keys, empty segments (``a//b``), ``.`` and ``..`` segments, a leading ``/``;
- NUL, backslashes (a separator elsewhere) and ``%2f`` / ``%5c`` still present after the router's
  decoding: a legitimate file name almost never holds them, while a double-encoded traversal always does;
- hidden names (a segment starting with ``.``): ``.git``, ``.env`` and friends are never images worth
  serving and sometimes secrets;
- anything that resolves (symlinks followed) outside the root, and anything that is not a regular file.

Files are stat'ed and read in a worker thread: a large file or a slow disk must not stall the loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import stat
from pathlib import Path

from gateway.errors import NotFound, SourceTooLarge, Timeout
from gateway.sources.base import FetchLimits, Original

_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c)", re.IGNORECASE)
_FORBIDDEN_CHARACTERS = ("\x00", "\\")
# Refuse a symlink as the last component at open time, so a link swapped in after the resolve()
# check cannot redirect the read (an attacker who can rewrite the folder owns its content anyway), and
# never block on opening a FIFO: it fails the regular-file check right after.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class LocalSource:
    def __init__(self, root: Path, limits: FetchLimits) -> None:
        self._root = root.resolve()
        self._limits = limits
        # A short digest of the root, never the path itself: re-pointing a workspace at another folder
        # changes every identity (so old cache entries are not served), and no path leaks into keys.
        self._root_tag = hashlib.sha256(os.fsencode(self._root)).hexdigest()[:12]

    def identity(self, key: str) -> str:
        return f"local:{self._root_tag}:{_checked_key(key)}"

    async def fetch(self, key: str) -> Original:
        relative = _checked_key(key)
        try:
            async with asyncio.timeout(self._limits.total_timeout):
                data = await asyncio.to_thread(self._read, relative)
        except TimeoutError as exc:
            raise Timeout("reading the source took too long") from exc
        return Original(data)

    async def aclose(self) -> None:
        return None

    def _read(self, relative: str) -> bytes:
        try:
            path = (self._root / relative).resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # missing, unreadable, or a symlink loop
            raise NotFound("no such source") from exc
        if not path.is_relative_to(self._root):
            raise NotFound("no such source")
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            raise NotFound("no such source") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise NotFound("no such source")
            if info.st_size > self._limits.max_bytes:
                raise SourceTooLarge()
            # Read one byte past the cap: the file may have grown since fstat.
            data = _read_up_to(fd, self._limits.max_bytes + 1)
        finally:
            os.close(fd)
        if len(data) > self._limits.max_bytes:
            raise SourceTooLarge()
        return data


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _checked_key(key: str) -> str:
    """``key`` itself if it names a path inside the root by the rules above, else ``NotFound``."""
    segments = key.split("/")
    if (
        not key
        or any(character in key for character in _FORBIDDEN_CHARACTERS)
        or _ENCODED_SEPARATOR.search(key)
        or any(segment == "" or segment.startswith(".") for segment in segments)
    ):
        raise NotFound("no such source")
    return key
