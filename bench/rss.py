"""Resident memory of process trees, read from /proc (psutil is not a dependency).

The figure is the sum of VmRSS over a server's processes. Forked workers share copy-on-write
pages, so the sum overstates what the tree really holds: a conservative number for a budget.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

_PROC = Path("/proc")
_SAMPLE_INTERVAL_S = 0.1


def process_tree(root: int) -> list[int]:
    """root and all its descendants that are alive now."""
    seen: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        if not (_PROC / str(pid)).exists():
            continue
        seen.append(pid)
        pending.extend(_children(pid))
    return seen


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return children
    for task in tasks:
        try:
            children.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return children


def rss_bytes(pid: int) -> int:
    try:
        status = (_PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_rss_bytes(roots: Iterable[int]) -> int:
    return sum(rss_bytes(pid) for root in roots for pid in process_tree(root))


class PeakRssSampler:
    """Samples the summed RSS of some process trees every ~100 ms while the `with` block runs."""

    def __init__(self, roots: Sequence[int]) -> None:
        self._roots = list(roots)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.peak_bytes = 0
        self.samples = 0

    def _run(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self._roots))
            self.samples += 1
            if self._stop.wait(_SAMPLE_INTERVAL_S):
                return

    def __enter__(self) -> PeakRssSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        # One last reading so a run shorter than the interval still has a figure.
        self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self._roots))
