"""Importing this package registers every workload (each module decorates its functions)."""

from __future__ import annotations

from bench.workloads import capture, hits, memory, misses

__all__ = ["capture", "hits", "memory", "misses"]
