"""Usage counters per workspace per UTC day, and the ``UsageStore`` protocol that keeps them.

The request path counts in memory (``gateway.usage.hooks``) and a flusher adds the counts to the store every
few seconds and at shutdown, so the store sees one write per workspace and day per flush, never one per
request. ``add`` adds (it never sets): several worker processes and several nodes flush into the same rows and
their counts sum.

Semantics every implementation keeps (``tests/gateway/accounts/usage_contract.py`` checks them):

- ``add`` / ``add_batch`` add atomically: two writers adding at once lose nothing. A batch is one transaction
  where the store has them (SQLite), else one pipeline (Redis).
- Counts of a namespace that names no workspace are dropped by the account-store implementations (the
  counters go with the workspace when it is deleted); the Redis one keeps them (it has no workspaces) and they
  expire with ``retention``.
- ``days`` answers one ``DailyUsage`` per day that has counts, from ``first`` to ``last`` inclusive, by day;
  days without any count are left out.
- ``month_totals`` sums a UTC calendar month (what monthly quotas are checked against).
- ``all_days`` answers what ``days`` would over every stored day (no range cap: the export holds them all);
  ``delete_workspace`` deletes them, after which ``all_days`` answers ``[]``.
- ``healthy`` answers whether the store can take counts now, with one cheap round trip (or none, in memory);
  it never raises (any error is ``False``) and logs nothing, so no address or credential can reach a log line.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

# The plain counters, in the order the stores keep them. ``errors`` (by code) is kept beside them.
COUNTERS: tuple[str, ...] = (
    "requests",
    "hits_memory",
    "hits_store",
    "renders",
    "captures",
    "bytes_out",
    "not_modified",
)

MAX_DAYS = 366  # the longest range one read answers: a year of days


@dataclass(slots=True)
class UsageCounts:
    """Counts gathered in memory for one workspace and day, before they are added to the store."""

    requests: int = 0
    hits_memory: int = 0  # answered from the process's memory tier
    hits_store: int = 0  # answered from the result store
    renders: int = 0  # misses that ran a transform (captures are counted on their own)
    captures: int = 0  # misses that ran a browser capture
    bytes_out: int = 0  # body bytes sent
    not_modified: int = 0  # 304s
    errors: dict[str, int] = field(default_factory=dict)  # error code -> count

    def merge(self, other: UsageCounts) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, n in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + n

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in COUNTERS) and not any(self.errors.values())


@dataclass(frozen=True, slots=True)
class DailyUsage:
    namespace: str
    day: date  # UTC
    requests: int = 0
    hits_memory: int = 0
    hits_store: int = 0
    renders: int = 0
    captures: int = 0
    bytes_out: int = 0
    not_modified: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """A month's sums, what the monthly quotas are checked against."""

    requests: int = 0
    renders: int = 0
    captures: int = 0
    bytes_out: int = 0


class UsageStore(Protocol):
    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        """Add ``counts`` to the workspace's counters for ``day`` (UTC), atomically."""
        ...

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        """Add every entry of a flush at once (one transaction or pipeline)."""
        ...

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        """The days from ``first`` to ``last`` inclusive that have counts, by day."""
        ...

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        """The sums over the UTC calendar month."""
        ...

    def all_days(self, namespace: str) -> list[DailyUsage]:
        """Every stored day of the workspace that has counts, by day, however far apart (the export reads it)."""
        ...

    def delete_workspace(self, namespace: str) -> int:
        """Delete every counter of the workspace; how many days went (the deletion receipt counts them)."""
        ...

    def healthy(self) -> bool:
        """Whether the store can take counts now: one cheap call, ``False`` on any error, never raises."""
        ...


def check_range(first: date, last: date) -> None:
    if last < first:
        raise ValueError("the usage range ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"a usage range is at most {MAX_DAYS} days")


def month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a calendar month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def check_counts(counts: UsageCounts) -> UsageCounts:
    for name in COUNTERS:
        value = getattr(counts, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"usage counter {name} must be a whole number of 0 or more")
    for code, n in counts.errors.items():
        if not code or not code.isascii() or not code.replace("_", "").isalnum():
            raise ValueError("an error code is letters, digits and underscores")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError("an error count must be a whole number of 0 or more")
    return counts


def totals_of(days: Iterable[DailyUsage]) -> UsageTotals:
    requests = renders = captures = bytes_out = 0
    for usage in days:
        requests += usage.requests
        renders += usage.renders
        captures += usage.captures
        bytes_out += usage.bytes_out
    return UsageTotals(requests, renders, captures, bytes_out)


def daily(namespace: str, day: date, counts: UsageCounts) -> DailyUsage:
    return DailyUsage(
        namespace,
        day,
        requests=counts.requests,
        hits_memory=counts.hits_memory,
        hits_store=counts.hits_store,
        renders=counts.renders,
        captures=counts.captures,
        bytes_out=counts.bytes_out,
        not_modified=counts.not_modified,
        errors=dict(counts.errors),
    )
