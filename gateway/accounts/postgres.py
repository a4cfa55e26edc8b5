"""The PostgreSQL account store: several gateway nodes share one database (``account_store = "postgres"``).

Synchronous like the SQLite store (tenancy calls it in a thread), over psycopg 3's connection pool. Every
write is one transaction. The checks a write depends on hold across nodes as follows:

- the workspace revision's compare-and-set is one conditional ``UPDATE ... WHERE revision = %s``: a second
  writer blocks on the row lock and then finds the revision moved on, so it gets ``WorkspaceConflict``;
- uniqueness (namespaces, email addresses, key prefixes and digests, Stripe customers, members) is the
  tables' constraints, and a violation is mapped to the protocol's error, so two nodes racing to create the
  same thing cannot both succeed;
- writes whose check reads several rows (the last owner, the rule order, marks named by rules) first lock
  the workspace's row (``SELECT ... FOR UPDATE``), so such writes on one workspace run one after another.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, cast

import psycopg
from psycopg import Connection, errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from gateway.accounts.audit import AuditEntry, AuditPage, check_page_size, decode_cursor, page_of
from gateway.accounts.capture_jobs import CaptureJobStore
from gateway.accounts.domains import DomainStore
from gateway.accounts.keys import ApiKey, KeyUse
from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.accounts.postgres_capture_jobs import PostgresCaptureJobStore
from gateway.accounts.postgres_domains import PostgresDomainStore
from gateway.accounts.postgres_logs import hide_server_detail
from gateway.accounts.postgres_schema import migrate, read_version
from gateway.accounts.postgres_signin import PostgresSignInStore
from gateway.accounts.postgres_usage import PostgresUsageStore
from gateway.accounts.signin import SignInStore
from gateway.accounts.sqlite_schema import (
    audit_from_row,
    key_from_row,
    mark_from_row,
    membership_from_row,
    rule_from_row,
    user_from_row,
    workspace_from_row,
    workspace_row,
)
from gateway.accounts.store import (
    KeyPrefixTaken,
    LastOwner,
    MemberExists,
    MemberMissing,
    StripeCustomerTaken,
    UserExists,
    UserMissing,
    WorkspaceConflict,
    WorkspaceExists,
    WorkspaceMissing,
    check_event_id,
    check_position,
    check_use_count,
    placed,
    stamp,
)
from gateway.accounts.usage import UsageStore
from gateway.accounts.users import InvalidEmail, Membership, User, new_user_id, normalise_email

__all__ = ["PostgresAccountStore"]

Db = Connection[DictRow]
# Seconds to wait for the first connection, and for a free one from the pool: a database that cannot be
# reached stops start-up with an error rather than hanging.
CONNECT_TIMEOUT = 10.0
# What psycopg's log lines call the pool ("error connecting in 'accounts': OperationalError").
POOL_NAME = "accounts"
# libpq's TCP bounds for every connection, where the DSN sets none of its own: a statement sent to a server that
# stopped acknowledging (its host gone, the network cut) fails after ``tcp_user_timeout`` ms, and an idle
# pooled connection to such a server is found dead by keepalives (10 s idle, then 3 probes 5 s apart), rather
# than either waiting the system's TCP retransmission limit, about 15 minutes. A server that acknowledges but is
# slow to answer (a lock wait) is bounded by neither.
TCP_BOUNDS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def _columns(ws: Workspace) -> dict[str, Any]:
    """SQLite's row of the workspace, flags as integers: SQLite takes a bool for an INTEGER column, PostgreSQL
    does not, and a flag added to ``workspace_row`` later may come without its ``int()``."""
    return {name: int(value) if isinstance(value, bool) else value for name, value in workspace_row(ws).items()}


def _bounded(dsn: str) -> str:
    """The DSN with ``TCP_BOUNDS`` added where it sets none of its own: the operator's own values win."""
    given = conninfo_to_dict(dsn)
    return make_conninfo(dsn, **{name: value for name, value in TCP_BOUNDS.items() if name not in given})


def _row(row: DictRow) -> Any:
    # The row mapping is SQLite's (gateway.accounts.sqlite_schema): it reads rows by column name, which a
    # psycopg dict row answers the same way as a sqlite3.Row.
    return cast(Any, row)


class PostgresAccountStore:
    def __init__(self, dsn: str, *, max_connections: int = 4) -> None:
        # The pool reconnects in the background and logs each failure with the server's own words, which name
        # its address and the database: only the kind of error reaches the log.
        hide_server_detail()
        dsn = _bounded(dsn)
        # Migrate over a connection of its own first: a database that cannot be reached fails here at once
        # (psycopg's OperationalError), where the pool would keep retrying in the background until its timeout.
        with psycopg.connect(dsn, row_factory=dict_row, connect_timeout=int(CONNECT_TIMEOUT)) as conn:
            migrate(conn)
        self._pool: ConnectionPool[Db] = ConnectionPool(
            dsn,
            connection_class=Connection[DictRow],
            # Autocommit: a read is one round trip; every write opens its transaction itself (``transaction``).
            kwargs={"row_factory": dict_row, "autocommit": True},
            name=POOL_NAME,
            min_size=1,
            max_size=max_connections,
            timeout=CONNECT_TIMEOUT,
            open=False,
        )
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        self.usage: UsageStore = PostgresUsageStore(self)
        self.signins: SignInStore = PostgresSignInStore(self)
        self.domains: DomainStore = PostgresDomainStore(self)
        self.capture_jobs: CaptureJobStore = PostgresCaptureJobStore(self)

    # For the parts of the account store kept in modules of their own (``gateway.accounts.postgres_*``): they
    # share this pool and its transactions, so one database holds every table.
    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    def query(self, sql: str, params: tuple[object, ...] = (), *, timeout: float | None = None) -> list[DictRow]:
        """Rows of one read; ``timeout``: seconds to wait for a connection from the pool, when not the pool's own
        ``CONNECT_TIMEOUT`` (psycopg_pool's PoolTimeout once they pass)."""
        with self._pool.connection(timeout=timeout) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """One statement in its own transaction; the rows it changed."""
        with self.transaction() as db:
            return db.execute(sql, params).rowcount

    @property
    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            return read_version(conn) or 0

    def get_workspace(self, namespace: str) -> Workspace | None:
        rows = self.query("SELECT * FROM workspaces WHERE namespace = %s", (namespace,))
        return workspace_from_row(_row(rows[0])) if rows else None

    def list_workspaces(self) -> list[Workspace]:
        return [workspace_from_row(_row(row)) for row in self.query("SELECT * FROM workspaces ORDER BY namespace")]

    def create_workspace(self, workspace: Workspace) -> Workspace:
        stored = dataclasses.replace(workspace, created_at=time.time(), revision=1)
        row = _columns(stored)
        # Column names come from the dataclass, never from input; values are bound parameters.
        columns = ", ".join(row)
        marks = ", ".join(f"%({name})s" for name in row)
        try:
            with self.transaction() as db:
                db.execute(f"INSERT INTO workspaces ({columns}) VALUES ({marks})", row)  # noqa: S608 - names from the dataclass
        except errors.UniqueViolation as exc:
            self._raise_unique(exc, stored)
        return stored

    def update_workspace(self, workspace: Workspace) -> Workspace:
        row = _columns(workspace)
        expected = row.pop("revision")
        del row["created_at"]  # kept from the stored record
        assignments = ", ".join(f"{name} = %({name})s" for name in row if name != "namespace")
        statement = (
            f"UPDATE workspaces SET {assignments}, revision = revision + 1 "  # noqa: S608 - names from the dataclass
            "WHERE namespace = %(namespace)s AND revision = %(expected)s RETURNING *"
        )
        try:
            with self.transaction() as db:
                # The revision check and the write are one statement: a concurrent writer waits for this row's
                # lock, then sees the new revision and matches nothing.
                stored = db.execute(statement, {**row, "expected": expected}).fetchone()
                if stored is None:
                    current = db.execute(
                        "SELECT revision FROM workspaces WHERE namespace = %s", (workspace.namespace,)
                    ).fetchone()
                    if current is None:
                        raise WorkspaceMissing(workspace.namespace)
                    raise WorkspaceConflict(workspace.namespace, expected, int(current["revision"]))
        except errors.UniqueViolation as exc:
            self._raise_unique(exc, workspace)
        assert stored is not None  # noqa: S101 - a missing row raised above
        return workspace_from_row(_row(stored))

    def _raise_unique(self, exc: errors.UniqueViolation, workspace: Workspace) -> Any:
        if exc.diag.constraint_name == "workspaces_by_stripe_customer":
            customer = workspace.billing.stripe_customer_id
            owner = self.find_workspace_by_stripe_customer(customer)
            raise StripeCustomerTaken(customer, owner.namespace if owner else "") from None
        raise WorkspaceExists(workspace.namespace) from None

    def delete_workspace(self, namespace: str) -> bool:
        # Marks, rules, memberships, keys, key use, usage, domains and jobs cascade; audit rows have no foreign
        # key (a refused call on a missing workspace is audited too) and are deleted here.
        with self.transaction() as db:
            db.execute("DELETE FROM audit WHERE namespace = %s", (namespace,))
            return db.execute("DELETE FROM workspaces WHERE namespace = %s", (namespace,)).rowcount > 0

    def find_workspace_by_stripe_customer(self, customer_id: str) -> Workspace | None:
        if not customer_id:
            return None
        rows = self.query("SELECT * FROM workspaces WHERE stripe_customer_id = %s", (customer_id,))
        return workspace_from_row(_row(rows[0])) if rows else None

    # -- marks and rules ------------------------------------------------------------------------

    @staticmethod
    def _lock(db: Db, namespace: str) -> None:
        """Lock the workspace's row for the rest of the transaction; ``WorkspaceMissing`` when there is none."""
        if db.execute("SELECT 1 FROM workspaces WHERE namespace = %s FOR UPDATE", (namespace,)).fetchone() is None:
            raise WorkspaceMissing(namespace)

    @staticmethod
    def _touch(db: Db, namespace: str) -> None:
        """Bump the workspace's revision so every tenancy cache reloads its marks and rules."""
        if db.execute("UPDATE workspaces SET revision = revision + 1 WHERE namespace = %s", (namespace,)).rowcount == 0:
            raise WorkspaceMissing(namespace)

    @staticmethod
    def _rules(db: Db, namespace: str) -> list[MarkRule]:
        rows = db.execute(
            "SELECT * FROM mark_rules WHERE namespace = %s ORDER BY position, rule_id", (namespace,)
        ).fetchall()
        return [rule_from_row(_row(row)) for row in rows]

    @staticmethod
    def _renumber(db: Db, ordered_ids: list[int]) -> None:
        with db.cursor() as cursor:
            cursor.executemany(
                "UPDATE mark_rules SET position = %s WHERE rule_id = %s",
                [(index, rule_id) for index, rule_id in enumerate(ordered_ids, start=1)],
            )

    def list_marks(self, namespace: str) -> list[MarkPreset]:
        rows = self.query("SELECT * FROM marks WHERE namespace = %s ORDER BY name", (namespace,))
        return [mark_from_row(_row(row)) for row in rows]

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        stored = dataclasses.replace(mark, updated_at=time.time())
        settings = {
            f.name: getattr(stored, f.name)
            for f in dataclasses.fields(MarkPreset)
            if f.name not in ("namespace", "name", "image_data", "updated_at")
        }
        with self.transaction() as db:
            self._touch(db, mark.namespace)
            db.execute(
                "INSERT INTO marks (namespace, name, settings, image_data, updated_at) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (namespace, name) DO UPDATE SET settings = excluded.settings, "
                "image_data = excluded.image_data, updated_at = excluded.updated_at",
                (mark.namespace, mark.name, json.dumps(settings, sort_keys=True), stored.image_data, stored.updated_at),
            )
        return stored

    def delete_mark(self, namespace: str, name: str) -> bool:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM workspaces WHERE namespace = %s FOR UPDATE", (namespace,)).fetchone() is None:
                return False
            if any(rule.preset == name for rule in self._rules(db, namespace)):
                raise ValueError(f"mark {name} is used by an auto-apply rule; delete or change the rule first")
            if db.execute("DELETE FROM marks WHERE namespace = %s AND name = %s", (namespace, name)).rowcount == 0:
                return False
            self._touch(db, namespace)
        return True

    def list_rules(self, namespace: str) -> list[MarkRule]:
        with self._pool.connection() as db:
            return self._rules(db, namespace)

    def add_rule(
        self,
        namespace: str,
        preset: str,
        key_patterns: tuple[str, ...],
        src_host_patterns: tuple[str, ...],
        position: int | None = None,
    ) -> MarkRule:
        MarkRule(namespace, 0, 1, preset, key_patterns, src_host_patterns)  # validates
        check_position(position)
        with self.transaction() as db:
            self._lock(db, namespace)
            self._touch(db, namespace)
            if not db.execute("SELECT 1 FROM marks WHERE namespace = %s AND name = %s", (namespace, preset)).fetchone():
                raise ValueError(f"no mark preset named {preset}")
            inserted = db.execute(
                "INSERT INTO mark_rules (namespace, position, preset, key_patterns, src_host_patterns) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING rule_id",
                (namespace, 0, preset, json.dumps(list(key_patterns)), json.dumps(list(src_host_patterns))),
            ).fetchone()
            assert inserted is not None  # noqa: S101 - RETURNING always answers the inserted row
            rule_id = int(inserted["rule_id"])
            self._renumber(db, placed([rule.rule_id for rule in self._rules(db, namespace)], rule_id, position))
            return next(rule for rule in self._rules(db, namespace) if rule.rule_id == rule_id)

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule:
        check_position(position)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM workspaces WHERE namespace = %s FOR UPDATE", (namespace,)).fetchone() is None:
                raise ValueError(f"no rule {rule_id} in {namespace}")
            ids = [rule.rule_id for rule in self._rules(db, namespace)]
            if rule_id not in ids:
                raise ValueError(f"no rule {rule_id} in {namespace}")
            self._renumber(db, placed(ids, rule_id, position))
            self._touch(db, namespace)
            return next(rule for rule in self._rules(db, namespace) if rule.rule_id == rule_id)

    def delete_rule(self, namespace: str, rule_id: int) -> bool:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM workspaces WHERE namespace = %s FOR UPDATE", (namespace,)).fetchone() is None:
                return False
            ids = [rule.rule_id for rule in self._rules(db, namespace)]
            if rule_id not in ids:
                return False
            ids.remove(rule_id)
            db.execute("DELETE FROM mark_rules WHERE rule_id = %s", (rule_id,))
            self._renumber(db, ids)
            self._touch(db, namespace)
        return True

    # -- users and memberships ------------------------------------------------------------------

    def create_user(self, email: str, at: float | None = None) -> User:
        user = User(new_user_id(), normalise_email(email), created_at=stamp(at))
        try:
            self.execute(
                "INSERT INTO users (user_id, email, created_at, last_sign_in_at) VALUES (%s, %s, %s, NULL)",
                (user.user_id, user.email, user.created_at),
            )
        except errors.UniqueViolation:
            raise UserExists(user.email) from None
        return user

    def get_user(self, user_id: str) -> User | None:
        rows = self.query("SELECT * FROM users WHERE user_id = %s", (user_id,))
        return user_from_row(_row(rows[0])) if rows else None

    def get_user_by_email(self, email: str) -> User | None:
        try:
            normal = normalise_email(email)
        except InvalidEmail:
            return None
        rows = self.query("SELECT * FROM users WHERE email = %s", (normal,))
        return user_from_row(_row(rows[0])) if rows else None

    def touch_sign_in(self, user_id: str, at: float | None = None) -> User:
        with self.transaction() as db:
            row = db.execute(
                "UPDATE users SET last_sign_in_at = %s WHERE user_id = %s RETURNING *", (stamp(at), user_id)
            ).fetchone()
        if row is None:
            raise UserMissing(user_id)
        return user_from_row(_row(row))

    def add_member(self, namespace: str, user_id: str, role: str = "member") -> Membership:
        membership = Membership(namespace, user_id, role)
        try:
            with self.transaction() as db:
                self._lock(db, namespace)
                if not db.execute("SELECT 1 FROM users WHERE user_id = %s", (user_id,)).fetchone():
                    raise UserMissing(user_id)
                db.execute(
                    "INSERT INTO memberships (namespace, user_id, role) VALUES (%s, %s, %s)", (namespace, user_id, role)
                )
        except errors.UniqueViolation:
            raise MemberExists(namespace, user_id) from None
        except errors.ForeignKeyViolation:
            # The user was deleted between the check and the insert.
            raise UserMissing(user_id) from None
        return membership

    def remove_member(self, namespace: str, user_id: str) -> bool:
        with self.transaction() as db:
            if not self._lock_members(db, namespace) or self._role(db, namespace, user_id) is None:
                return False
            self._keep_an_owner(db, namespace, user_id)
            db.execute("DELETE FROM memberships WHERE namespace = %s AND user_id = %s", (namespace, user_id))
        return True

    def change_role(self, namespace: str, user_id: str, role: str) -> Membership:
        changed = Membership(namespace, user_id, role)
        with self.transaction() as db:
            if not self._lock_members(db, namespace) or self._role(db, namespace, user_id) is None:
                raise MemberMissing(namespace, user_id)
            if not changed.is_owner:
                self._keep_an_owner(db, namespace, user_id)
            db.execute(
                "UPDATE memberships SET role = %s WHERE namespace = %s AND user_id = %s", (role, namespace, user_id)
            )
        return changed

    @staticmethod
    def _lock_members(db: Db, namespace: str) -> bool:
        """Lock the workspace's row, so two owners stepping down at once are checked one after the other."""
        return (
            db.execute("SELECT 1 FROM workspaces WHERE namespace = %s FOR UPDATE", (namespace,)).fetchone() is not None
        )

    @staticmethod
    def _role(db: Db, namespace: str, user_id: str) -> str | None:
        row = db.execute(
            "SELECT role FROM memberships WHERE namespace = %s AND user_id = %s", (namespace, user_id)
        ).fetchone()
        return str(row["role"]) if row else None

    @staticmethod
    def _keep_an_owner(db: Db, namespace: str, leaving: str) -> None:
        owners = [
            row["user_id"]
            for row in db.execute(
                "SELECT user_id FROM memberships WHERE namespace = %s AND role = 'owner'", (namespace,)
            ).fetchall()
        ]
        if owners == [leaving]:
            raise LastOwner(namespace, leaving)

    def list_members(self, namespace: str) -> list[Membership]:
        rows = self.query(
            "SELECT m.* FROM memberships m JOIN users u ON u.user_id = m.user_id "
            "WHERE m.namespace = %s ORDER BY u.email",
            (namespace,),
        )
        return [membership_from_row(_row(row)) for row in rows]

    def list_memberships(self, user_id: str) -> list[Membership]:
        rows = self.query("SELECT * FROM memberships WHERE user_id = %s ORDER BY namespace", (user_id,))
        return [membership_from_row(_row(row)) for row in rows]

    # -- API keys ------------------------------------------------------------------------------------

    def create_api_key(self, key: ApiKey, at: float | None = None) -> ApiKey:
        stored = dataclasses.replace(key, created_at=stamp(at), last_used_at=None, revoked_at=None)
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO api_keys (key_id, namespace, name, scope, prefix, sha256, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (key.key_id, key.namespace, key.name, key.scope, key.prefix, key.sha256, stored.created_at),
                )
        except errors.ForeignKeyViolation:
            raise WorkspaceMissing(key.namespace) from None
        except errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "api_keys_prefix_in_workspace":
                raise KeyPrefixTaken(key.namespace, key.prefix) from None
            raise ValueError("that API key is stored already") from None
        return stored

    def find_api_key(self, sha256: str) -> ApiKey | None:
        rows = self.query("SELECT * FROM api_keys WHERE sha256 = %s AND revoked_at IS NULL", (sha256,))
        return key_from_row(_row(rows[0])) if rows else None

    def list_api_keys(self, namespace: str) -> list[ApiKey]:
        rows = self.query("SELECT * FROM api_keys WHERE namespace = %s ORDER BY created_at, key_id", (namespace,))
        return [key_from_row(_row(row)) for row in rows]

    def revoke_api_key(self, namespace: str, prefix: str, at: float | None = None) -> ApiKey | None:
        with self.transaction() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE namespace = %s AND prefix = %s AND revoked_at IS NULL",
                (stamp(at), namespace, prefix),
            )
            row = db.execute(
                "SELECT * FROM api_keys WHERE namespace = %s AND prefix = %s", (namespace, prefix)
            ).fetchone()
        return key_from_row(_row(row)) if row else None

    def touch_api_key(self, key_id: str, at: float | None = None) -> None:
        self.execute("UPDATE api_keys SET last_used_at = %s WHERE key_id = %s", (stamp(at), key_id))

    def count_key_use(self, key_id: str, day: date, n: int = 1) -> None:
        if not check_use_count(n):
            return
        # INSERT ... SELECT finds no row for an unknown key, so its count is dropped without a foreign key error.
        try:
            self.execute(
                "INSERT INTO api_key_use (key_id, day, requests) SELECT key_id, %s, %s FROM api_keys "
                "WHERE key_id = %s ON CONFLICT (key_id, day) "
                "DO UPDATE SET requests = api_key_use.requests + excluded.requests",
                (day, n, key_id),
            )
        except errors.ForeignKeyViolation:
            pass  # the key was deleted (with its workspace) meanwhile: its counts go with it

    def list_key_use(self, namespace: str, first: date, last: date) -> list[KeyUse]:
        rows = self.query(
            "SELECT u.key_id, u.day, u.requests FROM api_key_use u JOIN api_keys k ON k.key_id = u.key_id "
            "WHERE k.namespace = %s AND u.day BETWEEN %s AND %s ORDER BY u.day, u.key_id",
            (namespace, first, last),
        )
        return [KeyUse(row["key_id"], row["day"], int(row["requests"])) for row in rows]

    # -- audit ---------------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        with self.transaction() as db:
            row = db.execute(
                "INSERT INTO audit (at, namespace, actor, operation, status, latency_ms) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING entry_id",
                (entry.at, entry.namespace, entry.actor, entry.operation, entry.status, entry.latency_ms),
            ).fetchone()
        assert row is not None  # noqa: S101 - RETURNING always answers the inserted row
        return dataclasses.replace(entry, entry_id=int(row["entry_id"]))

    def list_audit(
        self,
        namespace: str,
        limit: int = 50,
        cursor: str | None = None,
        *,
        actor: str | None = None,
        operation: str | None = None,
    ) -> AuditPage:
        check_page_size(limit)
        query = "SELECT * FROM audit WHERE namespace = %s"
        values: list[object] = [namespace]
        # strpos, not LIKE: a substring as typed (case-sensitive, no wildcards to escape), as the other stores.
        if actor is not None:
            query += " AND strpos(actor, %s) > 0"
            values.append(actor)
        if operation is not None:
            query += " AND strpos(operation, %s) > 0"
            values.append(operation)
        if cursor is not None:
            at, entry_id = decode_cursor(cursor)
            query += " AND (at < %s OR (at = %s AND entry_id < %s))"
            values += [at, at, entry_id]
        query += " ORDER BY at DESC, entry_id DESC LIMIT %s"
        rows = self.query(query, (*values, limit + 1))
        return page_of([audit_from_row(_row(row)) for row in rows], limit)

    def prune_audit(self, before: float) -> int:
        return self.execute("DELETE FROM audit WHERE at < %s", (before,))

    # -- webhook events ----------------------------------------------------------------------------

    def record_webhook_event(self, event_id: str, at: float | None = None) -> bool:
        check_event_id(event_id)
        inserted = self.execute(
            "INSERT INTO webhook_events (event_id, received_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (event_id, stamp(at)),
        )
        return inserted == 1

    def forget_webhook_event(self, event_id: str) -> bool:
        return self.execute("DELETE FROM webhook_events WHERE event_id = %s", (event_id,)) > 0

    def prune_webhook_events(self, before: float) -> int:
        return self.execute("DELETE FROM webhook_events WHERE received_at < %s", (before,))

    def close(self) -> None:
        self._pool.close()
