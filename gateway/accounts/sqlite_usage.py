"""Usage counters in the account store's SQLite file: a row per workspace and day, errors by code beside it.

A flush is one ``BEGIN IMMEDIATE`` transaction of upserts that add to the stored counts, so worker processes
and the ``imgate`` command sharing the file add up. Counts of a namespace with no workspace are dropped in the
same statement (``WHERE EXISTS``); the rows go with their workspace (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from gateway.accounts.usage import (
    COUNTERS,
    DailyUsage,
    UsageCounts,
    UsageTotals,
    check_counts,
    check_range,
    month_range,
)

if TYPE_CHECKING:
    from gateway.accounts.sqlite import SqliteAccountStore

_ADD_DAY = """
    INSERT INTO usage_days
        (namespace, day, requests, hits_memory, hits_store, renders, captures, bytes_out, not_modified)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workspaces WHERE namespace = ?)
    ON CONFLICT (namespace, day) DO UPDATE SET
        requests = requests + excluded.requests,
        hits_memory = hits_memory + excluded.hits_memory,
        hits_store = hits_store + excluded.hits_store,
        renders = renders + excluded.renders,
        captures = captures + excluded.captures,
        bytes_out = bytes_out + excluded.bytes_out,
        not_modified = not_modified + excluded.not_modified
"""
_ADD_ERROR = """
    INSERT INTO usage_errors (namespace, day, code, count)
    SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workspaces WHERE namespace = ?)
    ON CONFLICT (namespace, day, code) DO UPDATE SET count = count + excluded.count
"""
_DAYS = """
    SELECT day, requests, hits_memory, hits_store, renders, captures, bytes_out, not_modified
    FROM usage_days WHERE namespace = ? AND day BETWEEN ? AND ? ORDER BY day
"""
_PROBE = "SELECT 1 FROM usage_days LIMIT 1"
# Days are stored as ISO dates, so these bounds take in every day a ``date`` can be.
_EVERY_DAY = (date.min.isoformat(), date.max.isoformat())


class SqliteUsageStore:
    def __init__(self, store: SqliteAccountStore) -> None:
        self._store = store

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        for counts in batch.values():
            check_counts(counts)
        if not batch:
            return
        with self._store.transaction() as db:
            for (namespace, day), counts in batch.items():
                stamp = day.isoformat()
                values = tuple(getattr(counts, name) for name in COUNTERS)
                db.execute(_ADD_DAY, (namespace, stamp, *values, namespace))
                for code, n in counts.errors.items():
                    if n:
                        db.execute(_ADD_ERROR, (namespace, stamp, code, n, namespace))

    def healthy(self) -> bool:
        try:
            # The counters' own table: a file that lost it (or cannot be read) cannot take counts either.
            self._store.query(_PROBE)
        except Exception:
            return False
        return True

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        check_range(first, last)
        return self._read(namespace, first.isoformat(), last.isoformat())

    def all_days(self, namespace: str) -> list[DailyUsage]:
        return self._read(namespace, *_EVERY_DAY)

    def delete_workspace(self, namespace: str) -> int:
        # Deleting the workspace row cascades to these; this is for a caller that deletes the counters alone.
        with self._store.transaction() as db:
            db.execute("DELETE FROM usage_errors WHERE namespace = ?", (namespace,))
            return db.execute("DELETE FROM usage_days WHERE namespace = ?", (namespace,)).rowcount

    def _read(self, namespace: str, first: str, last: str) -> list[DailyUsage]:
        span = (namespace, first, last)
        rows = self._store.query(_DAYS, span)
        errors: dict[str, dict[str, int]] = {}
        for row in self._store.query(
            "SELECT day, code, count FROM usage_errors WHERE namespace = ? AND day BETWEEN ? AND ? ORDER BY day, code",
            span,
        ):
            errors.setdefault(row["day"], {})[row["code"]] = int(row["count"])
        found = []
        for row in rows:
            counts = {name: int(row[name]) for name in COUNTERS}
            found.append(
                DailyUsage(
                    namespace,
                    date.fromisoformat(row["day"]),
                    requests=counts["requests"],
                    hits_memory=counts["hits_memory"],
                    hits_store=counts["hits_store"],
                    renders=counts["renders"],
                    captures=counts["captures"],
                    bytes_out=counts["bytes_out"],
                    not_modified=counts["not_modified"],
                    errors=errors.get(row["day"], {}),
                )
            )
        return found

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        first, last = month_range(year, month)
        row = self._store.query(
            "SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(renders), 0) AS renders, "
            "COALESCE(SUM(captures), 0) AS captures, COALESCE(SUM(bytes_out), 0) AS bytes_out "
            "FROM usage_days WHERE namespace = ? AND day BETWEEN ? AND ?",
            (namespace, first.isoformat(), last.isoformat()),
        )[0]
        return UsageTotals(int(row["requests"]), int(row["renders"]), int(row["captures"]), int(row["bytes_out"]))
