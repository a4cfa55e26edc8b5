"""What a workload needs from an HTTP server under load, whoever it is."""

from __future__ import annotations

from typing import Protocol

from bench.jobs import Job
from loopback.processes import ManagedProcess


class HttpPeer(Protocol):
    @property
    def label(self) -> str:
        """Row name in the report."""
        ...

    @property
    def base_url(self) -> str: ...

    @property
    def busts_by_query(self) -> bool:
        """True when a `v=` query parameter makes a new cache key (misses then append one)."""
        ...

    def miss_path(self, job: Job) -> str: ...

    def hot_path(self, job: Job, index: int) -> str:
        """The index-th of a set of distinct URLs that all produce job's output."""
        ...

    def rss_roots(self) -> list[int]:
        """Root pids of the server's process trees, for memory sampling."""
        ...

    def running(self) -> bool: ...


class ProcessPeer:
    """The lifecycle every peer started as one managed process shares; subclasses set ``_process``."""

    _process: ManagedProcess

    def rss_roots(self) -> list[int]:
        return [self._process.pid]

    def running(self) -> bool:
        return self._process.running()

    def stop(self) -> None:
        self._process.stop()
