"""Custom domains in the PostgreSQL account database (table ``domains``), through the store's pool.

``add`` locks the workspace's row first, so the plan limit holds against the same workspace's other writes.
One row per (hostname, namespace): several workspaces may claim a name; a partial unique index keeps at most
one ``verified`` row per hostname; ``save_check`` of a proof locks every claim on the name first, so two proofs
saved at once for two workspaces queue, and the second stores ``failed``. ``claim_due`` picks rows with
``FOR UPDATE SKIP LOCKED``: two nodes re-checking at once take different domains and never wait for each other.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from psycopg.rows import DictRow

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
    from gateway.accounts.postgres import PostgresAccountStore


def _domain(row: DictRow) -> Domain:
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


class PostgresDomainStore:
    def __init__(self, accounts: PostgresAccountStore) -> None:
        self._accounts = accounts

    def add(self, domain: Domain, limit: int) -> Domain:
        fresh = Domain(
            domain.hostname, domain.namespace, PENDING, domain.reason, domain.token or new_token(), time.time()
        )
        with self._accounts.transaction() as db:
            locked = db.execute("SELECT 1 FROM workspaces WHERE namespace = %s FOR UPDATE", (domain.namespace,))
            if locked.fetchone() is None:
                raise WorkspaceMissing(domain.namespace)
            row = db.execute(
                "SELECT * FROM domains WHERE hostname = %s AND namespace = %s", (domain.hostname, domain.namespace)
            ).fetchone()
            if row is not None and row["state"] != REMOVED:
                return _domain(row)
            holder = db.execute(
                "SELECT 1 FROM domains WHERE hostname = %s AND state = %s", (domain.hostname, VERIFIED)
            ).fetchone()
            if holder is not None:
                raise DomainTaken(domain.hostname)
            held = db.execute(
                "SELECT COUNT(*) AS n FROM domains WHERE namespace = %s AND state != %s", (domain.namespace, REMOVED)
            ).fetchone()
            if held is not None and int(held["n"]) >= limit:
                raise DomainLimitReached(domain.namespace, limit)
            # Over the workspace's removed row, or a new one (the workspace's row is locked with it above).
            written = db.execute(
                "INSERT INTO domains (hostname, namespace, state, reason, token, created_at, checked_at, failures) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (hostname, namespace) DO UPDATE SET state = excluded.state, "
                "reason = excluded.reason, token = excluded.token, created_at = excluded.created_at, "
                "checked_at = excluded.checked_at, failures = excluded.failures WHERE domains.state = %s",
                (
                    fresh.hostname,
                    fresh.namespace,
                    fresh.state,
                    fresh.reason,
                    fresh.token,
                    fresh.created_at,
                    0.0,
                    0,
                    REMOVED,
                ),
            )
            if written.rowcount == 0:
                raise DomainTaken(domain.hostname)
        return fresh

    def get(self, namespace: str, hostname: str) -> Domain | None:
        rows = self._accounts.query(
            "SELECT * FROM domains WHERE hostname = %s AND namespace = %s", (hostname, namespace)
        )
        return _domain(rows[0]) if rows else None

    def routed(self, hostname: str) -> Domain | None:
        rows = self._accounts.query("SELECT * FROM domains WHERE hostname = %s AND state = %s", (hostname, VERIFIED))
        return _domain(rows[0]) if rows else None

    def in_workspace(self, namespace: str) -> list[Domain]:
        rows = self._accounts.query(
            "SELECT * FROM domains WHERE namespace = %s AND state != %s ORDER BY hostname",
            (namespace, REMOVED),
        )
        return [_domain(row) for row in rows]

    def save_check(self, domain: Domain) -> Domain | None:
        state, reason = domain.state, domain.reason
        with self._accounts.transaction() as db:
            if state == VERIFIED:
                # Every claim on the name, locked first and in one statement: two proofs saved at once queue
                # here (no deadlock between "mine verified" and "yours failed"), and the second sees the first.
                db.execute("SELECT 1 FROM domains WHERE hostname = %s FOR UPDATE", (domain.hostname,))
                holder = db.execute(
                    "SELECT 1 FROM domains WHERE hostname = %s AND state = %s AND namespace != %s",
                    (domain.hostname, VERIFIED, domain.namespace),
                ).fetchone()
                if holder is not None:
                    state, reason = FAILED, VERIFIED_ELSEWHERE
            row = db.execute(
                "UPDATE domains SET state = %s, reason = %s, failures = %s, checked_at = %s "
                "WHERE hostname = %s AND namespace = %s AND token = %s AND state != %s AND checked_at <= %s "
                "RETURNING *",
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
            ).fetchone()
            if row is not None and state == VERIFIED:
                # The first to prove the name wins it: the other workspaces' claims stop waiting for it.
                db.execute(
                    "UPDATE domains SET state = %s, reason = %s "
                    "WHERE hostname = %s AND namespace != %s AND state != %s",
                    (FAILED, VERIFIED_ELSEWHERE, domain.hostname, domain.namespace, REMOVED),
                )
        return _domain(row) if row else None

    def remove(self, namespace: str, hostname: str) -> Domain | None:
        with self._accounts.transaction() as db:
            row = db.execute(
                "UPDATE domains SET state = %s, reason = '' WHERE hostname = %s AND namespace = %s AND state != %s "
                "RETURNING *",
                (REMOVED, hostname, namespace, REMOVED),
            ).fetchone()
        return _domain(row) if row else None

    def claim_due(self, now: float, pending_before: float, checked_before: float, limit: int) -> list[Domain]:
        with self._accounts.transaction() as db:
            rows = db.execute(
                "SELECT * FROM domains WHERE state = ANY(%s) "
                "AND checked_at < CASE WHEN state = %s THEN %s ELSE %s END "
                "ORDER BY checked_at, hostname, namespace LIMIT %s FOR UPDATE SKIP LOCKED",
                (list(CHECKED_STATES), PENDING, pending_before, checked_before, limit),
            ).fetchall()
            with db.cursor() as cursor:
                cursor.executemany(
                    "UPDATE domains SET checked_at = %s WHERE hostname = %s AND namespace = %s",
                    [(now, r["hostname"], r["namespace"]) for r in rows],
                )
        claimed = [_domain(row) for row in rows]
        return [
            Domain(d.hostname, d.namespace, d.state, d.reason, d.token, d.created_at, now, d.failures) for d in claimed
        ]
