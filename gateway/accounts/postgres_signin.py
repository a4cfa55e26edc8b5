"""Sign-in codes and sessions in the PostgreSQL account database (``PostgresAccountStore.signins``).

The two checks that must hold across nodes are single conditional ``UPDATE`` statements, atomic under
PostgreSQL's row locks: ``claim_attempt`` (attempts below the cap, not used) and ``use_code`` (not used yet).
``add_code_within`` counts and inserts under a transaction-scoped advisory lock: there is no row to lock before
the first code of an address exists, and codes are asked for rarely enough that one lock for all is no queue.
As in SQLite, codes carry no foreign key to the users table: a code is asked for before its user exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import errors
from psycopg.rows import DictRow

from gateway.accounts.signin import Session, SignInCode

if TYPE_CHECKING:
    from gateway.accounts.postgres import PostgresAccountStore


def _code(row: DictRow) -> SignInCode:
    return SignInCode(
        code_id=row["code_id"],
        email=row["email"],
        digest=row["digest"],
        client=row["client"],
        created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
        attempts=int(row["attempts"]),
        used_at=row["used_at"],
    )


def _session(row: DictRow) -> Session:
    return Session(
        digest=row["digest"],
        user_id=row["user_id"],
        created_at=float(row["created_at"]),
        last_seen_at=float(row["last_seen_at"]),
        revoked_at=row["revoked_at"],
    )


# pg_advisory_xact_lock's key serialising the limit check and insert of sign-in codes (next to the others).
_CODES_LOCK = 0x1A6A80
_INSERT = (
    "INSERT INTO signin_codes (code_id, email, digest, client, created_at, expires_at, attempts, used_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _values(code: SignInCode) -> tuple[object, ...]:
    return (
        code.code_id,
        code.email,
        code.digest,
        code.client,
        code.created_at,
        code.expires_at,
        code.attempts,
        code.used_at,
    )


class PostgresSignInStore:
    def __init__(self, store: PostgresAccountStore) -> None:
        self._store = store

    def add_code(self, code: SignInCode) -> None:
        try:
            self._store.execute(_INSERT, _values(code))
        except errors.UniqueViolation:
            raise ValueError("a sign-in code with that id is stored already") from None

    def newest_code(self, email: str) -> SignInCode | None:
        rows = self._store.query(
            "SELECT * FROM signin_codes WHERE email = %s ORDER BY created_at DESC, seq DESC LIMIT 1", (email,)
        )
        return _code(rows[0]) if rows else None

    def count_codes(self, *, since: float, email: str | None = None, client: str | None = None) -> int:
        sql = "SELECT COUNT(*) AS n FROM signin_codes WHERE created_at >= %s"
        params: list[object] = [since]
        if email is not None:
            sql += " AND email = %s"
            params.append(email)
        if client is not None:
            sql += " AND client = %s"
            params.append(client)
        return int(self._store.query(sql, tuple(params))[0]["n"])

    def add_code_within(self, code: SignInCode, *, since: float, per_email: int, per_client: int) -> bool:
        try:
            with self._store.transaction() as db:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_CODES_LOCK,))
                row = db.execute(
                    "SELECT COALESCE(SUM((email = %s)::int), 0) AS by_email,"
                    " COALESCE(SUM((client = %s)::int), 0) AS by_client FROM signin_codes WHERE created_at >= %s",
                    (code.email, code.client, since),
                ).fetchone()
                if row is None or int(row["by_email"]) >= per_email or int(row["by_client"]) >= per_client:
                    return False
                db.execute(_INSERT, _values(code))
                return True
        except errors.UniqueViolation:
            raise ValueError("a sign-in code with that id is stored already") from None

    def claim_attempt(self, code_id: str, max_attempts: int) -> bool:
        changed = self._store.execute(
            "UPDATE signin_codes SET attempts = attempts + 1 WHERE code_id = %s AND used_at IS NULL AND attempts < %s",
            (code_id, max_attempts),
        )
        return changed == 1

    def use_code(self, code_id: str, at: float) -> bool:
        changed = self._store.execute(
            "UPDATE signin_codes SET used_at = %s WHERE code_id = %s AND used_at IS NULL", (at, code_id)
        )
        return changed == 1

    def prune_codes(self, before: float) -> int:
        return self._store.execute("DELETE FROM signin_codes WHERE expires_at < %s", (before,))

    def add_session(self, session: Session) -> None:
        try:
            self._store.execute(
                "INSERT INTO sessions (digest, user_id, created_at, last_seen_at, revoked_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (session.digest, session.user_id, session.created_at, session.last_seen_at, session.revoked_at),
            )
        except errors.UniqueViolation:
            raise ValueError("a session with that id is stored already") from None

    def get_session(self, digest: str) -> Session | None:
        rows = self._store.query("SELECT * FROM sessions WHERE digest = %s AND revoked_at IS NULL", (digest,))
        return _session(rows[0]) if rows else None

    def touch_session(self, digest: str, at: float) -> None:
        self._store.execute("UPDATE sessions SET last_seen_at = %s WHERE digest = %s", (at, digest))

    def revoke_session(self, digest: str, at: float) -> bool:
        changed = self._store.execute(
            "UPDATE sessions SET revoked_at = %s WHERE digest = %s AND revoked_at IS NULL", (at, digest)
        )
        return changed == 1

    def revoke_user_sessions(self, user_id: str, at: float) -> int:
        return self._store.execute(
            "UPDATE sessions SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL", (at, user_id)
        )

    def prune_sessions(self, before: float) -> int:
        return self._store.execute(
            "DELETE FROM sessions WHERE created_at < %s OR (revoked_at IS NOT NULL AND revoked_at < %s)",
            (before, before),
        )
