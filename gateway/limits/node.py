"""The node-wide in-process limiter: one token bucket per workspace in a table every worker shares.

Granian runs several worker processes, and a limit kept in each would admit the rate once per worker. So the
buckets live in one memory-mapped file, ``<data_dir>/run/limits.bin``, that every gateway process of the
machine using that data folder maps, and every change to it is made under an exclusive ``flock`` of the file.
A request does not take that lock: a process takes a *lease* of a few tokens at once (``lease_size``, 1/20
of a second's rate) and spends them from its own memory, so the shared table is touched about twenty times a
second per busy process and a hit costs a dictionary lookup and a decrement.

Exactness: tokens are only created by the shared bucket's refill, so the node never admits more than the
rate plus the burst over any time; the tokens other processes hold in unspent leases (at most one lease each,
dropped after ``LEASE_SECONDS``) can make it admit a little less, at most 5% of a second's rate per process.
A process that finds the shared bucket empty refuses from memory until the next token is due.

Table layout: a 64-byte header (magic, slot count) and ``SLOTS`` slots of (key, tokens, stamp); a workspace's
slot is found by open addressing from its key (a stable hash of the namespace: ``hash()`` differs between
processes), and when the probed slots are all taken the one used longest ago is reused (its bucket had
refilled long since, so restarting it full changes nothing).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
from pathlib import Path

from gateway.limits.clock import SYSTEM_CLOCK, Clock
from gateway.limits.protocol import Decision, Health, lease_size

log = logging.getLogger("imgate.limits")

SLOTS = 8192
LEASE_SECONDS = 1.0
_MAGIC = b"imgate-limits-v1"
_HEADER = struct.Struct("<16sQ")
_HEADER_SIZE = 64
_SLOT = struct.Struct("<Qdd")  # key, tokens, stamp (monotonic seconds)
_SLOT_SIZE = 32
_PROBES = 16
_MAX_LOCAL = 20_000


def slot_key(namespace: str) -> int:
    """A stable, non-zero 64-bit key for a namespace (0 marks a free slot)."""
    digest = hashlib.blake2b(namespace.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


class BucketTable:
    """The shared table. Opened lazily in the process that uses it: a descriptor inherited across a fork
    shares its lock with the parent, which would let two workers into the table at once."""

    def __init__(self, path: Path, slots: int = SLOTS) -> None:
        self._path = path
        self._slots = slots
        self._pid = -1
        self._fd = -1
        self._map: mmap.mmap | None = None

    def _mapped(self) -> mmap.mmap:
        if self._map is not None and self._pid == os.getpid():
            return self._map
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        size = _HEADER_SIZE + self._slots * _SLOT_SIZE
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            header = os.pread(fd, _HEADER.size, 0)
            if os.fstat(fd).st_size != size or header != _HEADER.pack(_MAGIC, self._slots):
                # New, or written by another layout: start empty (every bucket full).
                os.ftruncate(fd, 0)
                os.ftruncate(fd, size)
                os.pwrite(fd, _HEADER.pack(_MAGIC, self._slots), 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._map, self._fd, self._pid = mmap.mmap(fd, size), fd, os.getpid()
        return self._map

    def take(self, key: int, rate: float, burst: float, want: int, now: float) -> tuple[int, float]:
        """Refill the bucket of ``key`` to ``now``, take up to ``want`` whole tokens: (taken, tokens left)."""
        table = self._mapped()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            offset = self._find(table, key, burst, now)
            _, tokens, stamp = _SLOT.unpack_from(table, offset)
            # max(0, ...): after a reboot the monotonic clock starts again below the stored stamps.
            tokens = min(burst, tokens + max(0.0, now - stamp) * rate)
            taken = min(want, int(tokens)) if tokens >= 1 else 0
            tokens -= taken
            _SLOT.pack_into(table, offset, key, tokens, now)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        return taken, tokens

    def _find(self, table: mmap.mmap, key: int, burst: float, now: float) -> int:
        start = key % self._slots
        oldest, oldest_stamp = -1, float("inf")
        for probe in range(_PROBES):
            offset = _HEADER_SIZE + ((start + probe) % self._slots) * _SLOT_SIZE
            found, _, stamp = _SLOT.unpack_from(table, offset)
            if found == key:
                return offset
            if found == 0:
                _SLOT.pack_into(table, offset, key, burst, now)
                return offset
            if stamp < oldest_stamp:
                oldest, oldest_stamp = offset, stamp
        _SLOT.pack_into(table, oldest, key, burst, now)
        return oldest

    def close(self) -> None:
        if self._map is not None and self._pid == os.getpid():
            self._map.close()
            os.close(self._fd)
        self._map, self._fd, self._pid = None, -1, -1


class _Lease:
    __slots__ = ("empty_until", "expires", "key", "left", "tokens")

    def __init__(self, key: int) -> None:
        self.key = key
        self.tokens = 0  # leased tokens this process has not spent yet
        self.left = 0  # the shared bucket's tokens when the lease was taken
        self.expires = 0.0
        self.empty_until = 0.0  # the shared bucket was empty: refuse from memory until then


class NodeLimiter:
    """``Limiter`` over the shared table (see the module's docstring)."""

    def __init__(self, path: Path, clock: Clock = SYSTEM_CLOCK, slots: int = SLOTS) -> None:
        self._table = BucketTable(path, slots)
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._broken = False

    def acquire(self, namespace: str, rate: int, burst: int) -> Decision:
        lease = self._leases.get(namespace)
        if lease is None:
            if len(self._leases) >= _MAX_LOCAL:
                self._leases.clear()
            lease = self._leases[namespace] = _Lease(slot_key(namespace))
        now = self._clock.monotonic()
        if lease.tokens > 0 and now < lease.expires:
            lease.tokens -= 1
            remaining = lease.left + lease.tokens
            return Decision(True, remaining, (burst - remaining) / rate)
        if now < lease.empty_until:
            return Decision(False, 0, lease.empty_until - now)
        try:
            taken, left = self._table.take(lease.key, rate, burst, lease_size(rate, burst), now)
        except OSError:
            # A table that cannot be written (disk full, permissions) must not turn into refusals or 500s:
            # the gateway serves unlimited and says so in its log, once.
            if not self._broken:
                log.exception("the rate-limit table cannot be used; requests are not limited")
                self._broken = True
            return Decision(True, burst, 0.0)
        if taken == 0:
            lease.tokens = 0
            lease.empty_until = now + (1.0 - left) / rate
            return Decision(False, 0, lease.empty_until - now)
        lease.tokens, lease.left, lease.expires = taken - 1, int(left), now + LEASE_SECONDS
        remaining = lease.left + lease.tokens
        return Decision(True, remaining, (burst - remaining) / rate)

    def health(self) -> Health:
        return "degraded" if self._broken else "ok"

    async def aclose(self) -> None:
        self._table.close()
