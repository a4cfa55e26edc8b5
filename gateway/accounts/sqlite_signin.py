"""Sign-in codes and sessions in the account store's SQLite file (``SqliteAccountStore.signins``).

The two checks that must hold across worker processes are single conditional ``UPDATE`` statements, so
SQLite's write lock makes them atomic: ``claim_attempt`` (attempts below the cap, not used) and ``use_code``
(not used yet). A code's rows carry no foreign key to the users table: a code is asked for before its user
exists (a first sign-in creates the user).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from gateway.accounts.signin import Session, SignInCode

if TYPE_CHECKING:
    from gateway.accounts.sqlite import SqliteAccountStore


def _code(row: sqlite3.Row) -> SignInCode:
    return SignInCode(
        code_id=row["code_id"],
        email=row["email"],
        digest=row["digest"],
        client=row["client"],
        created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
        attempts=int(row["attempts"]),
        used_at=None if row["used_at"] is None else float(row["used_at"]),
    )


def _session(row: sqlite3.Row) -> Session:
    return Session(
        digest=row["digest"],
        user_id=row["user_id"],
        created_at=float(row["created_at"]),
        last_seen_at=float(row["last_seen_at"]),
        revoked_at=None if row["revoked_at"] is None else float(row["revoked_at"]),
    )


def _insert(db: sqlite3.Connection, code: SignInCode) -> None:
    db.execute(
        "INSERT INTO signin_codes (code_id, email, digest, client, created_at, expires_at, attempts, used_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            code.code_id,
            code.email,
            code.digest,
            code.client,
            code.created_at,
            code.expires_at,
            code.attempts,
            code.used_at,
        ),
    )


class SqliteSignInStore:
    def __init__(self, store: SqliteAccountStore) -> None:
        self._store = store

    def add_code(self, code: SignInCode) -> None:
        try:
            with self._store.transaction() as db:
                _insert(db, code)
        except sqlite3.IntegrityError:
            raise ValueError("a sign-in code with that id is stored already") from None

    def newest_code(self, email: str) -> SignInCode | None:
        rows = self._store.query(
            "SELECT * FROM signin_codes WHERE email = ? ORDER BY created_at DESC, seq DESC LIMIT 1", (email,)
        )
        return _code(rows[0]) if rows else None

    def count_codes(self, *, since: float, email: str | None = None, client: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM signin_codes WHERE created_at >= ?"
        params: list[object] = [since]
        if email is not None:
            sql += " AND email = ?"
            params.append(email)
        if client is not None:
            sql += " AND client = ?"
            params.append(client)
        return int(self._store.query(sql, tuple(params))[0][0])

    def add_code_within(self, code: SignInCode, *, since: float, per_email: int, per_client: int) -> bool:
        # One BEGIN IMMEDIATE transaction: the write lock is taken before counting, so no other writer can
        # store a code between this count and this insert.
        try:
            with self._store.transaction() as db:
                by_email, by_client = db.execute(
                    "SELECT COALESCE(SUM(email = ?), 0), COALESCE(SUM(client = ?), 0) FROM signin_codes"
                    " WHERE created_at >= ?",
                    (code.email, code.client, since),
                ).fetchone()
                if int(by_email) >= per_email or int(by_client) >= per_client:
                    return False
                _insert(db, code)
                return True
        except sqlite3.IntegrityError:
            raise ValueError("a sign-in code with that id is stored already") from None

    def claim_attempt(self, code_id: str, max_attempts: int) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE signin_codes SET attempts = attempts + 1"
                " WHERE code_id = ? AND used_at IS NULL AND attempts < ?",
                (code_id, max_attempts),
            )
            return cursor.rowcount == 1

    def use_code(self, code_id: str, at: float) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE signin_codes SET used_at = ? WHERE code_id = ? AND used_at IS NULL", (at, code_id)
            )
            return cursor.rowcount == 1

    def prune_codes(self, before: float) -> int:
        with self._store.transaction() as db:
            return db.execute("DELETE FROM signin_codes WHERE expires_at < ?", (before,)).rowcount

    def add_session(self, session: Session) -> None:
        try:
            with self._store.transaction() as db:
                db.execute(
                    "INSERT INTO sessions (digest, user_id, created_at, last_seen_at, revoked_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (session.digest, session.user_id, session.created_at, session.last_seen_at, session.revoked_at),
                )
        except sqlite3.IntegrityError:
            raise ValueError("a session with that id is stored already") from None

    def get_session(self, digest: str) -> Session | None:
        rows = self._store.query("SELECT * FROM sessions WHERE digest = ? AND revoked_at IS NULL", (digest,))
        return _session(rows[0]) if rows else None

    def touch_session(self, digest: str, at: float) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE sessions SET last_seen_at = ? WHERE digest = ?", (at, digest))

    def revoke_session(self, digest: str, at: float) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE sessions SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL", (at, digest)
            )
            return cursor.rowcount == 1

    def revoke_user_sessions(self, user_id: str, at: float) -> int:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (at, user_id)
            )
            return cursor.rowcount

    def prune_sessions(self, before: float) -> int:
        with self._store.transaction() as db:
            return db.execute(
                "DELETE FROM sessions WHERE created_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)",
                (before, before),
            ).rowcount
