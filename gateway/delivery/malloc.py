"""glibc allocator tuning for image work.

Decoding a 5120x2880 original allocates tens of MB per transform, from several threads (a progressive JPEG's
decoder alone holds ~90 MB). glibc gives each thread its own arena and rarely hands freed pages back,
so RSS climbs to the high-water mark of every arena and stays there. Three things keep a worker near its
working set (measured with ``make bench``'s memory workload and in-process, see README *Performance*):

- the arenas are capped (``limit_arenas``);
- blocks from ``LARGE_BLOCK`` bytes up are mapped on their own (``map_large_blocks``), so freeing a decode's
  buffers unmaps them at once. glibc's default threshold starts at 128 KiB but rises to the size of every mapped
  block freed, up to 32 MiB, after which the decoders' buffers land in the arenas and fragment them; a fixed
  threshold turns that off. It costs no measurable time (photo misses: the same CPU time at 1 and 32 MiB);
- the heap is trimmed once the transform pool has been idle for a moment (``trim``, called by the pool).

Elsewhere than glibc all three are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Allocations of this many bytes or more get their own mapping (far above libvips' per-thread tile buffers).
LARGE_BLOCK = 1024 * 1024

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


def map_large_blocks(threshold: int = LARGE_BLOCK) -> None:
    """Serve allocations of ``threshold`` bytes or more from their own mapping, returned to the system on free."""
    if _libc is not None:
        _libc.mallopt(_M_MMAP_THRESHOLD, threshold)


def trim(min_interval: float = 1.0) -> bool:
    """Return free heap pages to the system, at most once per ``min_interval`` seconds; True if it trimmed."""
    global _last_trim
    now = time.monotonic()
    if _libc is None or now - _last_trim < min_interval:
        return False
    _last_trim = now
    _libc.malloc_trim(0)
    return True


def release() -> None:
    """When the transform pool goes idle: free what only reference cycles still hold, then trim.

    A transform that failed or was refused leaves a traceback whose frames hold its pyvips images, and an image
    holds its decoder (a progressive JPEG's loader keeps the whole coefficient buffer until it is closed): until
    the cyclic collector's next full pass, which an idle worker may never reach, those tens of MB stay mapped.
    """
    gc.collect()
    trim(0.0)
