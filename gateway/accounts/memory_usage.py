"""Usage counters in this process's memory, beside ``MemoryAccountStore``: for unit tests and demos."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import date

from gateway.accounts.usage import (
    DailyUsage,
    UsageCounts,
    UsageTotals,
    check_counts,
    check_range,
    daily,
    month_range,
    totals_of,
)


class MemoryUsageStore:
    def __init__(self, workspace_exists: Callable[[str], bool]) -> None:
        # The account store's own check, so counts of a namespace with no workspace are dropped as SQLite does.
        self._workspace_exists = workspace_exists
        self._lock = threading.Lock()
        self._days: dict[tuple[str, date], UsageCounts] = {}

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        for counts in batch.values():
            check_counts(counts)
        known = {namespace: self._workspace_exists(namespace) for namespace, _ in batch}
        with self._lock:
            for (namespace, day), counts in batch.items():
                if known[namespace]:
                    self._days.setdefault((namespace, day), UsageCounts()).merge(counts)

    def healthy(self) -> bool:
        return True  # this process's memory: reachable while the process runs

    def forget(self, namespace: str) -> None:
        """The workspace was deleted: its counters go with it."""
        self.delete_workspace(namespace)

    def delete_workspace(self, namespace: str) -> int:
        with self._lock:
            gone = [key for key in self._days if key[0] == namespace]
            for key in gone:
                del self._days[key]
        return len(gone)

    def all_days(self, namespace: str) -> list[DailyUsage]:
        with self._lock:
            found = [daily(namespace, day, counts) for (owner, day), counts in self._days.items() if owner == namespace]
        return sorted(found, key=lambda usage: usage.day)

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        check_range(first, last)
        with self._lock:
            found = [
                daily(namespace, day, counts)
                for (owner, day), counts in self._days.items()
                if owner == namespace and first <= day <= last
            ]
        return sorted(found, key=lambda usage: usage.day)

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        first, last = month_range(year, month)
        with self._lock:
            found = [
                daily(namespace, day, counts)
                for (owner, day), counts in self._days.items()
                if owner == namespace and first <= day <= last
            ]
        return totals_of(found)
