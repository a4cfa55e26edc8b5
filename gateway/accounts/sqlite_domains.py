"""Custom domains in the SQLite account file (table ``domains``), through the store's connection and lock.

Every write is one ``BEGIN IMMEDIATE`` transaction of the account store, so the hostname's verified owner, the
plan limit and a re-check claim hold across worker processes and the ``imgate`` command. One row per
(hostname, namespace); a partial unique index keeps at most one ``verified`` row per hostname.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

from gateway.accounts.domains import (
    CHECKED_STATES,
    FAILED,
    PENDING,
    REMOVED,
    VERIFIED,
    VERIFIED_ELSEWHERE,
    Domain,
    DomainLimitReached,
    DomainTaken,
    new_token,
)
from gateway.accounts.store import WorkspaceMissing

if TYPE_CHECKING:
    from gateway.accounts.sqlite import SqliteAccountStore

_COLUMNS = "hostname, namespace, state, reason, token, created_at, checked_at, failures"


def _domain(row: sqlite3.Row) -> Domain:
    return Domain(
        hostname=row["hostname"],
        namespace=row["namespace"],
        state=row["state"],
        reason=row["reason"],
        token=row["token"],
        created_at=float(row["created_at"]),
        checked_at=float(row["checked_at"]),
        failures=int(row["failures"]),
    )


class SqliteDomainStore:
    def __init__(self, accounts: SqliteAccountStore) -> None:
        self._accounts = accounts

    def add(self, domain: Domain, limit: int) -> Domain:
        fresh = Domain(
            domain.hostname, domain.namespace, PENDING, domain.reason, domain.token or new_token(), time.time()
        )
        with self._accounts.transaction() as db:
            if db.execute("SELECT 1 FROM workspaces WHERE namespace = ?", (domain.namespace,)).fetchone() is None:
                raise WorkspaceMissing(domain.namespace)
            row = db.execute(
                f"SELECT {_COLUMNS} FROM domains WHERE hostname = ? AND namespace = ?",  # noqa: S608 - a constant
                (domain.hostname, domain.namespace),
            ).fetchone()
            if row is not None and row["state"] != REMOVED:
                return _domain(row)
            holder = db.execute(
                "SELECT 1 FROM domains WHERE hostname = ? AND state = ?", (domain.hostname, VERIFIED)
            ).fetchone()
            if holder is not None:
                raise DomainTaken(domain.hostname)
            held = db.execute(
                "SELECT COUNT(*) FROM domains WHERE namespace = ? AND state != ?", (domain.namespace, REMOVED)
            ).fetchone()[0]
            if held >= limit:
                raise DomainLimitReached(domain.namespace, limit)
            db.execute(
                "INSERT OR REPLACE INTO domains (" + _COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (fresh.hostname, fresh.namespace, fresh.state, fresh.reason, fresh.token, fresh.created_at, 0.0, 0),
            )
        return fresh

    def get(self, namespace: str, hostname: str) -> Domain | None:
        rows = self._accounts.query(
            f"SELECT {_COLUMNS} FROM domains WHERE hostname = ? AND namespace = ?",  # noqa: S608
            (hostname, namespace),
        )
        return _domain(rows[0]) if rows else None

    def routed(self, hostname: str) -> Domain | None:
        rows = self._accounts.query(
            f"SELECT {_COLUMNS} FROM domains WHERE hostname = ? AND state = ?",  # noqa: S608
            (hostname, VERIFIED),
        )
        return _domain(rows[0]) if rows else None

    def in_workspace(self, namespace: str) -> list[Domain]:
        rows = self._accounts.query(
            f"SELECT {_COLUMNS} FROM domains WHERE namespace = ? AND state != ? ORDER BY hostname",  # noqa: S608
            (namespace, REMOVED),
        )
        return [_domain(row) for row in rows]

    def save_check(self, domain: Domain) -> Domain | None:
        state, reason = domain.state, domain.reason
        with self._accounts.transaction() as db:
            if state == VERIFIED:
                holder = db.execute(
                    "SELECT 1 FROM domains WHERE hostname = ? AND state = ? AND namespace != ?",
                    (domain.hostname, VERIFIED, domain.namespace),
                ).fetchone()
                if holder is not None:
                    state, reason = FAILED, VERIFIED_ELSEWHERE
            cursor = db.execute(
                "UPDATE domains SET state = ?, reason = ?, failures = ?, checked_at = ? "
                "WHERE hostname = ? AND namespace = ? AND token = ? AND state != ? AND checked_at <= ?",
                (
                    state,
                    reason,
                    domain.failures,
                    domain.checked_at,
                    domain.hostname,
                    domain.namespace,
                    domain.token,
                    REMOVED,
                    domain.checked_at,
                ),
            )
            if cursor.rowcount == 0:
                return None
            if state == VERIFIED:
                # The first to prove the name wins it: the other workspaces' claims stop waiting for it.
                db.execute(
                    "UPDATE domains SET state = ?, reason = ? WHERE hostname = ? AND namespace != ? AND state != ?",
                    (FAILED, VERIFIED_ELSEWHERE, domain.hostname, domain.namespace, REMOVED),
                )
            row = db.execute(
                f"SELECT {_COLUMNS} FROM domains WHERE hostname = ? AND namespace = ?",  # noqa: S608
                (domain.hostname, domain.namespace),
            ).fetchone()
        return _domain(row)

    def remove(self, namespace: str, hostname: str) -> Domain | None:
        with self._accounts.transaction() as db:
            cursor = db.execute(
                "UPDATE domains SET state = ?, reason = '' WHERE hostname = ? AND namespace = ? AND state != ?",
                (REMOVED, hostname, namespace, REMOVED),
            )
            if cursor.rowcount == 0:
                return None
            row = db.execute(
                f"SELECT {_COLUMNS} FROM domains WHERE hostname = ? AND namespace = ?",  # noqa: S608
                (hostname, namespace),
            ).fetchone()
        return _domain(row)

    def claim_due(self, now: float, pending_before: float, checked_before: float, limit: int) -> list[Domain]:
        states = ", ".join("?" for _ in CHECKED_STATES)
        with self._accounts.transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM domains WHERE state IN ({states}) "  # noqa: S608 - placeholders only
                "AND checked_at < CASE WHEN state = ? THEN ? ELSE ? END "
                "ORDER BY checked_at, hostname, namespace LIMIT ?",
                (*CHECKED_STATES, PENDING, pending_before, checked_before, limit),
            ).fetchall()
            db.executemany(
                "UPDATE domains SET checked_at = ? WHERE hostname = ? AND namespace = ?",
                [(now, r["hostname"], r["namespace"]) for r in rows],
            )
        claimed = [_domain(row) for row in rows]
        return [
            Domain(d.hostname, d.namespace, d.state, d.reason, d.token, d.created_at, now, d.failures) for d in claimed
        ]
