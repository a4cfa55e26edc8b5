"""The two clocks the limits read: wall time for the monthly quotas (they reset at a UTC month boundary) and
a monotonic one for the token buckets. Tests inject a ``Clock`` that they move by hand instead of sleeping."""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock every process of the machine shares and that never goes back."""
        ...


class SystemClock:
    # CLOCK_MONOTONIC is one clock for the whole machine, so buckets kept in shared memory by several worker
    # processes agree on it.
    # The functions themselves, not methods wrapping them: the hit path reads both clocks.
    time = staticmethod(_time.time)
    monotonic = staticmethod(_time.monotonic)


SYSTEM_CLOCK: Clock = SystemClock()


def month_start(year: int, month: int) -> float:
    """The epoch seconds of the first instant of a UTC calendar month."""
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def month_of(epoch: float) -> tuple[int, int]:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.year, moment.month


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
