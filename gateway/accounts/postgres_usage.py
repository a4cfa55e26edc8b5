"""Usage counters in the PostgreSQL account database: a row per workspace and day, errors by code beside it.

A flush is one transaction of upserts that add to the stored counts (``ON CONFLICT ... DO UPDATE``, atomic per
row), so every node's workers add up. Counts of a namespace with no workspace are dropped in the same statement
(``WHERE EXISTS``); the rows go with their workspace (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from psycopg import errors

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
    from gateway.accounts.postgres import PostgresAccountStore

_ADD_DAY = """
    INSERT INTO usage_days
        (namespace, day, requests, hits_memory, hits_store, renders, captures, bytes_out, not_modified)
    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM workspaces WHERE namespace = %s)
    ON CONFLICT (namespace, day) DO UPDATE SET
        requests = usage_days.requests + excluded.requests,
        hits_memory = usage_days.hits_memory + excluded.hits_memory,
        hits_store = usage_days.hits_store + excluded.hits_store,
        renders = usage_days.renders + excluded.renders,
        captures = usage_days.captures + excluded.captures,
        bytes_out = usage_days.bytes_out + excluded.bytes_out,
        not_modified = usage_days.not_modified + excluded.not_modified
"""
_ADD_ERROR = """
    INSERT INTO usage_errors (namespace, day, code, count)
    SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM workspaces WHERE namespace = %s)
    ON CONFLICT (namespace, day, code) DO UPDATE SET count = usage_errors.count + excluded.count
"""
_DAYS = """
    SELECT day, requests, hits_memory, hits_store, renders, captures, bytes_out, not_modified
    FROM usage_days WHERE namespace = %s AND day BETWEEN %s AND %s ORDER BY day
"""

_PROBE = "SELECT 1 FROM usage_days LIMIT 1"
# Seconds the health check waits for a connection from the pool: with the server gone the pool would wait its
# whole connect timeout, and the flusher asks every interval, in every worker, holding its lock.
_PROBE_TIMEOUT = 2.0


class PostgresUsageStore:
    def __init__(self, store: PostgresAccountStore) -> None:
        self._store = store

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        for counts in batch.values():
            check_counts(counts)
        if not batch:
            return
        # A flush in sorted order: two nodes flushing the same rows at once lock them in the same order, so
        # they queue instead of deadlocking.
        ordered = sorted(batch.items(), key=lambda item: item[0])
        try:
            with self._store.transaction() as db:
                for (namespace, day), counts in ordered:
                    values = tuple(getattr(counts, name) for name in COUNTERS)
                    db.execute(_ADD_DAY, (namespace, day, *values, namespace))
                    for code, n in sorted(counts.errors.items()):
                        if n:
                            db.execute(_ADD_ERROR, (namespace, day, code, n, namespace))
        except errors.ForeignKeyViolation:
            # A workspace of the batch was deleted between the EXISTS and the insert; its counts go with it,
            # and the rest of the batch is written again without it.
            self.add_batch({key: counts for key, counts in batch.items() if self._exists(key[0])})

    def healthy(self) -> bool:
        # The counters' own table, over the pool the flushes take their connections from. What bounds the
        # answer: getting a connection, ``_PROBE_TIMEOUT`` (2 s; a pooled connection is handed over without a
        # round trip, so one the server closed fails at the query, at once); the query on a connection whose
        # server stopped acknowledging (host gone, network cut), libpq's ``tcp_user_timeout`` (10 s, the
        # store's ``TCP_BOUNDS``). Not bounded: a server that acknowledges but does not answer, such as a
        # query waiting for a lock on the table.
        try:
            self._store.query(_PROBE, timeout=_PROBE_TIMEOUT)
        except Exception:
            return False
        return True

    def _exists(self, namespace: str) -> bool:
        return bool(self._store.query("SELECT 1 FROM workspaces WHERE namespace = %s", (namespace,)))

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        check_range(first, last)
        return self._read(namespace, first, last)

    def all_days(self, namespace: str) -> list[DailyUsage]:
        return self._read(namespace, date.min, date.max)

    def delete_workspace(self, namespace: str) -> int:
        # Deleting the workspace row cascades to these; this is for a caller that deletes the counters alone.
        with self._store.transaction() as db:
            db.execute("DELETE FROM usage_errors WHERE namespace = %s", (namespace,))
            return db.execute("DELETE FROM usage_days WHERE namespace = %s", (namespace,)).rowcount

    def _read(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        span = (namespace, first, last)
        rows = self._store.query(_DAYS, span)
        errors_by_day: dict[date, dict[str, int]] = {}
        for row in self._store.query(
            "SELECT day, code, count FROM usage_errors WHERE namespace = %s AND day BETWEEN %s AND %s "
            "ORDER BY day, code",
            span,
        ):
            errors_by_day.setdefault(row["day"], {})[row["code"]] = int(row["count"])
        found = []
        for row in rows:
            counts = {name: int(row[name]) for name in COUNTERS}
            found.append(
                DailyUsage(
                    namespace,
                    row["day"],
                    requests=counts["requests"],
                    hits_memory=counts["hits_memory"],
                    hits_store=counts["hits_store"],
                    renders=counts["renders"],
                    captures=counts["captures"],
                    bytes_out=counts["bytes_out"],
                    not_modified=counts["not_modified"],
                    errors=errors_by_day.get(row["day"], {}),
                )
            )
        return found

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        first, last = month_range(year, month)
        row = self._store.query(
            "SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(renders), 0) AS renders, "
            "COALESCE(SUM(captures), 0) AS captures, COALESCE(SUM(bytes_out), 0) AS bytes_out "
            "FROM usage_days WHERE namespace = %s AND day BETWEEN %s AND %s",
            (namespace, first, last),
        )[0]
        return UsageTotals(int(row["requests"]), int(row["renders"]), int(row["captures"]), int(row["bytes_out"]))
