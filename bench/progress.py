"""One line per timed run, so a long run shows where it is."""

from __future__ import annotations

from bench.stats import RunStats


def log_run(workload: str, repeat: int, repeats: int, label: str, stats: RunStats) -> None:
    rss = f"  peak RSS {stats.peak_rss_bytes / 2**20:.0f} MiB" if stats.peak_rss_bytes else ""
    print(
        f"bench: {workload} [{repeat + 1}/{repeats}] {label}: {stats.requests_per_s:.1f} req/s"
        f"  p50 {stats.p50_ms:.1f} ms  p99 {stats.p99_ms:.1f} ms  errors {stats.errors}{rss}",
        flush=True,
    )


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)
