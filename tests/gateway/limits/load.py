"""Steady load on real gateways for the limits' integration tests: threads with keep-alive connections."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

import httpx


def hammer(urls: Sequence[str], seconds: float, threads_per_url: int = 3, gap: float = 0.002) -> Counter[int]:
    """GET each URL from ``threads_per_url`` threads for ``seconds``; the statuses seen, counted. Each thread
    pauses ``gap`` between requests so the gateways' own workers keep the CPU they need."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(urls) * threads_per_url)

    def run(url: str) -> None:
        seen: Counter[int] = Counter()
        with httpx.Client(timeout=10) as client:
            start.wait()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                seen[client.get(url).status_code] += 1
                time.sleep(gap)
        with lock:
            statuses.update(seen)

    workers = [threading.Thread(target=run, args=(url,)) for url in urls for _ in range(threads_per_url)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses
