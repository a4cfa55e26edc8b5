"""``SwitchedStore``: a usage store behind a switch, for the flusher's tests of a store that goes away."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from gateway.accounts.memory_usage import MemoryUsageStore
from gateway.accounts.usage import DailyUsage, UsageCounts, UsageStore, UsageTotals

# The detail a real store's error carries, which no log line may repeat.
AWAY = "the store at 10.0.0.7:6379 is away"


class SwitchedStore:
    """Counters in ``inner`` (memory counters taking every namespace, unless given) while ``up``; while not,
    ``add_batch`` raises and ``healthy`` says no. ``asked`` counts the calls of ``healthy``; ``raises`` makes
    ``healthy`` raise, as a store that breaks the contract would."""

    def __init__(self, inner: UsageStore | None = None, *, up: bool = True) -> None:
        self.inner: UsageStore = inner if inner is not None else MemoryUsageStore(lambda namespace: True)
        self.up = up
        self.asked = 0
        self.raises = False

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        if not self.up:
            raise ConnectionError(AWAY)
        self.inner.add_batch(batch)

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        return self.inner.days(namespace, first, last)

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        return self.inner.month_totals(namespace, year, month)

    def all_days(self, namespace: str) -> list[DailyUsage]:
        return self.inner.all_days(namespace)

    def delete_workspace(self, namespace: str) -> int:
        return self.inner.delete_workspace(namespace)

    def healthy(self) -> bool:
        self.asked += 1
        if self.raises:
            raise ConnectionError(AWAY)
        return self.up
