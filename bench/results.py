"""A workload's measurements: one row per server, the repeats kept, medians derived."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.stats import RunStats, median_of

Role = Literal["subject", "peer", "variant"]
SUBJECT = "imgate"


@dataclass
class Row:
    label: str
    role: Role  # subject: the gateway; peer: compared against; variant: shown, folded into a peer row
    runs: list[RunStats] = field(default_factory=list)
    output_bytes: float | None = None  # mean size of this server's answers, to show outputs match
    ssim: float | None = None  # mean SSIM of its answers against full-size references (bench/quality.py)

    @property
    def median(self) -> RunStats | None:
        return median_of(self.runs) if self.runs else None

    def to_json(self) -> dict[str, Any]:
        median = self.median
        return {
            "label": self.label,
            "role": self.role,
            "output_bytes": self.output_bytes,
            "ssim": self.ssim,
            "median": median.to_json() if median else None,
            "runs": [run.to_json() for run in self.runs],
        }


@dataclass
class WorkloadResult:
    name: str
    title: str
    concurrency: int
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, label: str) -> Row | None:
        return next((row for row in self.rows if row.label == label), None)

    def rate(self, label: str) -> float | None:
        row = self.row(label)
        median = row.median if row else None
        return median.requests_per_s if median else None

    def ratio(self, peer_label: str) -> float | None:
        """imgate's requests/s over the peer's (None when either was not measured).

        The median of per-repeat ratios: each repeat measures the servers one right after the other,
        so a neighbour's load that comes and goes weighs on both sides of a pair alike, which a
        ratio of two independent medians does not give.
        """
        ours, theirs = self.row(SUBJECT), self.row(peer_label)
        if ours is None or theirs is None or not ours.runs or not theirs.runs:
            return None
        if len(ours.runs) == len(theirs.runs) and all(run.requests_per_s for run in theirs.runs):
            pairs = zip(ours.runs, theirs.runs, strict=True)
            return statistics.median(mine.requests_per_s / peer.requests_per_s for mine, peer in pairs)
        mine_rate, peer_rate = self.rate(SUBJECT), self.rate(peer_label)
        return mine_rate / peer_rate if mine_rate is not None and peer_rate else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "concurrency": self.concurrency,
            "rows": [row.to_json() for row in self.rows],
            "ratios": {row.label: self.ratio(row.label) for row in self.rows if row.role == "peer"},
            "notes": self.notes,
            "extra": self.extra,
        }
