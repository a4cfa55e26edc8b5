"""A clock the tests move by hand: the monthly quotas' boundary and the buckets' refill without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


class HandClock:
    def __init__(self, at: datetime = datetime(2026, 11, 30, 23, 59, 0, tzinfo=UTC)) -> None:
        self.wall = at.timestamp()
        self.mono = 1000.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds
