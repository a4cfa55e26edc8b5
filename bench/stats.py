"""One measured run and the median over a workload's repeats."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RunStats:
    """What one server did in one timed run. Rates count only good (2xx) answers."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    peak_rss_bytes: int | None = None
    other_cpu: float | None = None  # share of the machine other programs used meanwhile (cpu.py)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def median_of(runs: Sequence[RunStats]) -> RunStats:
    """Each figure's own median across repeats; errors are summed so none is hidden."""
    if not runs:
        raise ValueError("no runs to summarise")
    rss = [run.peak_rss_bytes for run in runs if run.peak_rss_bytes is not None]
    other = [run.other_cpu for run in runs if run.other_cpu is not None]
    return RunStats(
        requests_per_s=statistics.median(run.requests_per_s for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
        requests=sum(run.requests for run in runs),
        peak_rss_bytes=int(statistics.median(rss)) if rss else None,
        other_cpu=statistics.median(other) if other else None,
    )
