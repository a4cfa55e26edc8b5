"""Importing this package registers every workload (each module decorates its functions)."""

from __future__ import annotations

from bench.workloads import capture, domains, encode_times, hits, limits, memory, misses, remote, two_nodes

__all__ = ["capture", "domains", "encode_times", "hits", "limits", "memory", "misses", "remote", "two_nodes"]
