"""glibc allocator tuning for image work.

Decoding a 5120x2880 original allocates tens of MB per transform, from several threads. glibc gives each
thread its own arena and rarely hands freed pages back, so RSS climbs to the high-water mark of every arena
and stays there. Capping the arenas and trimming when the transform pool goes idle keeps a worker near its
working set (measured in ``make bench``'s memory workload). Elsewhere than glibc both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time

_M_ARENA_MAX = -8
_libc: ctypes.CDLL | None
try:
    _name = ctypes.util.find_library("c")
    _libc = ctypes.CDLL(_name) if _name else None
    if _libc is not None and not hasattr(_libc, "malloc_trim"):
        _libc = None
except OSError:
    _libc = None

_last_trim = 0.0


def limit_arenas(count: int) -> None:
    if _libc is not None:
        _libc.mallopt(_M_ARENA_MAX, count)


def trim(min_interval: float = 1.0) -> None:
    """Return free heap pages to the system, at most once per ``min_interval`` seconds."""
    global _last_trim
    now = time.monotonic()
    if _libc is None or now - _last_trim < min_interval:
        return
    _last_trim = now
    _libc.malloc_trim(0)
