"""The embedded account store: one SQLite file, schema migrations versioned with ``PRAGMA user_version``.

Every write is one ``BEGIN IMMEDIATE`` transaction, so the checks a write depends on (the revision of a
compare-and-set, the rules naming a mark, the rule order) hold across the gateway's worker processes and the
``imgate`` command sharing the file, not only across the threads of one process.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from gateway.accounts.audit import AuditEntry, AuditPage, check_page_size, decode_cursor, page_of
from gateway.accounts.capture_jobs import CaptureJobStore
from gateway.accounts.domains import DomainStore
from gateway.accounts.keys import ApiKey, KeyUse
from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.accounts.signin import SignInStore
from gateway.accounts.sqlite_capture_jobs import SqliteCaptureJobStore
from gateway.accounts.sqlite_domains import SqliteDomainStore
from gateway.accounts.sqlite_schema import (
    MIGRATIONS,
    audit_from_row,
    key_from_row,
    mark_from_row,
    membership_from_row,
    rule_from_row,
    user_from_row,
    workspace_from_row,
    workspace_row,
)
from gateway.accounts.sqlite_signin import SqliteSignInStore
from gateway.accounts.sqlite_usage import SqliteUsageStore
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

__all__ = ["MIGRATIONS", "SqliteAccountStore"]


class SqliteAccountStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by threads, serialised by a lock: the store is tiny and off the hot path.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        self.usage: UsageStore = SqliteUsageStore(self)
        self.signins: SignInStore = SqliteSignInStore(self)
        self.domains: DomainStore = SqliteDomainStore(self)
        self.capture_jobs: CaptureJobStore = SqliteCaptureJobStore(self)

    def _migrate(self) -> None:
        """Bring the file to the latest schema, one migration per transaction.

        Several processes open the file at once (Granian workers after a deploy, the ``imgate`` command), so
        the version is read again under the write lock: another process may have migrated in between, and
        running its migration a second time would fail (``ALTER TABLE ... ADD COLUMN`` twice).
        """
        while self._schema_version() < len(MIGRATIONS):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = self._schema_version()
                if version < len(MIGRATIONS):
                    for statement in filter(str.strip, MIGRATIONS[version].split(";")):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {version + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        found = self._schema_version()
        if found > len(MIGRATIONS):
            self._db.close()
            raise RuntimeError(
                f"the account database has schema version {found}, newer than this imgate "
                f"knows ({len(MIGRATIONS)}): it was written by a later release"
            )

    def _schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction: committed on success, rolled back on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # For the parts of the account store kept in modules of their own (``gateway.accounts.sqlite_*``): they
    # share this connection, its lock and its transactions, so one file holds every table.
    transaction = _transaction

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        """Rows of one read, under the connection's lock."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._schema_version()

    def get_workspace(self, namespace: str) -> Workspace | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM workspaces WHERE namespace = ?", (namespace,)).fetchone()
        return workspace_from_row(row) if row else None

    def list_workspaces(self) -> list[Workspace]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM workspaces ORDER BY namespace").fetchall()
        return [workspace_from_row(row) for row in rows]

    def create_workspace(self, workspace: Workspace) -> Workspace:
        stored = dataclasses.replace(workspace, created_at=time.time(), revision=1)
        row = workspace_row(stored)
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM workspaces WHERE namespace = ?", (workspace.namespace,)).fetchone():
                raise WorkspaceExists(workspace.namespace)
            self._check_customer(db, stored)
            db.execute(f"INSERT INTO workspaces ({columns}) VALUES ({marks})", row)  # noqa: S608
        return stored

    def update_workspace(self, workspace: Workspace) -> Workspace:
        row = workspace_row(workspace)
        expected = row.pop("revision")
        del row["created_at"]  # kept from the stored record
        # Column names come from the dataclass, never from input; values are bound parameters.
        assignments = ", ".join(f"{name} = :{name}" for name in row if name != "namespace")
        statement = (
            f"UPDATE workspaces SET {assignments}, revision = revision + 1 "  # noqa: S608
            "WHERE namespace = :namespace AND revision = :expected"
        )
        with self._transaction() as db:
            self._check_customer(db, workspace)
            # The revision check and the write are one statement: no other writer can slip in between.
            if db.execute(statement, {**row, "expected": expected}).rowcount == 0:
                current = db.execute(
                    "SELECT revision FROM workspaces WHERE namespace = ?", (workspace.namespace,)
                ).fetchone()
                if current is None:
                    raise WorkspaceMissing(workspace.namespace)
                raise WorkspaceConflict(workspace.namespace, expected, int(current["revision"]))
            stored = db.execute("SELECT * FROM workspaces WHERE namespace = ?", (workspace.namespace,)).fetchone()
        return workspace_from_row(stored)

    def delete_workspace(self, namespace: str) -> bool:
        # Marks, rules, memberships, keys and key use go with it: their foreign keys cascade (foreign_keys is on
        # for this connection). Audit rows have no foreign key and are deleted here.
        with self._transaction() as db:
            db.execute("DELETE FROM audit WHERE namespace = ?", (namespace,))
            cursor = db.execute("DELETE FROM workspaces WHERE namespace = ?", (namespace,))
        return cursor.rowcount > 0

    def find_workspace_by_stripe_customer(self, customer_id: str) -> Workspace | None:
        if not customer_id:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM workspaces WHERE stripe_customer_id = ?", (customer_id,)).fetchone()
        return workspace_from_row(row) if row else None

    @staticmethod
    def _check_customer(db: sqlite3.Connection, workspace: Workspace) -> None:
        customer = workspace.billing.stripe_customer_id
        if not customer:
            return
        other = db.execute(
            "SELECT namespace FROM workspaces WHERE stripe_customer_id = ? AND namespace != ?",
            (customer, workspace.namespace),
        ).fetchone()
        if other is not None:
            raise StripeCustomerTaken(customer, other["namespace"])

    # -- marks and rules ------------------------------------------------------------------------

    @staticmethod
    def _touch(db: sqlite3.Connection, namespace: str) -> None:
        """Bump the workspace's revision so every tenancy cache reloads its marks and rules."""
        cursor = db.execute("UPDATE workspaces SET revision = revision + 1 WHERE namespace = ?", (namespace,))
        if cursor.rowcount == 0:
            raise WorkspaceMissing(namespace)

    @staticmethod
    def _rules(db: sqlite3.Connection, namespace: str) -> list[MarkRule]:
        rows = db.execute(
            "SELECT * FROM mark_rules WHERE namespace = ? ORDER BY position, rule_id", (namespace,)
        ).fetchall()
        return [rule_from_row(row) for row in rows]

    @staticmethod
    def _renumber(db: sqlite3.Connection, ordered_ids: list[int]) -> None:
        db.executemany(
            "UPDATE mark_rules SET position = ? WHERE rule_id = ?",
            [(index, rule_id) for index, rule_id in enumerate(ordered_ids, start=1)],
        )

    def list_marks(self, namespace: str) -> list[MarkPreset]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM marks WHERE namespace = ? ORDER BY name", (namespace,)).fetchall()
        return [mark_from_row(row) for row in rows]

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        stored = dataclasses.replace(mark, updated_at=time.time())
        settings = {
            f.name: getattr(stored, f.name)
            for f in dataclasses.fields(MarkPreset)
            if f.name not in ("namespace", "name", "image_data", "updated_at")
        }
        with self._transaction() as db:
            self._touch(db, mark.namespace)
            db.execute(
                "INSERT OR REPLACE INTO marks (namespace, name, settings, image_data, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (mark.namespace, mark.name, json.dumps(settings, sort_keys=True), stored.image_data, stored.updated_at),
            )
        return stored

    def delete_mark(self, namespace: str, name: str) -> bool:
        with self._transaction() as db:
            if any(rule.preset == name for rule in self._rules(db, namespace)):
                raise ValueError(f"mark {name} is used by an auto-apply rule; delete or change the rule first")
            if db.execute("DELETE FROM marks WHERE namespace = ? AND name = ?", (namespace, name)).rowcount == 0:
                return False
            self._touch(db, namespace)
        return True

    def list_rules(self, namespace: str) -> list[MarkRule]:
        with self._lock:
            return self._rules(self._db, namespace)

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
        with self._transaction() as db:
            self._touch(db, namespace)
            if not db.execute("SELECT 1 FROM marks WHERE namespace = ? AND name = ?", (namespace, preset)).fetchone():
                raise ValueError(f"no mark preset named {preset}")
            cursor = db.execute(
                "INSERT INTO mark_rules (namespace, position, preset, key_patterns, src_host_patterns) "
                "VALUES (?, ?, ?, ?, ?)",
                (namespace, 0, preset, json.dumps(list(key_patterns)), json.dumps(list(src_host_patterns))),
            )
            rule_id = int(cursor.lastrowid or 0)
            self._renumber(db, placed([rule.rule_id for rule in self._rules(db, namespace)], rule_id, position))
            return next(rule for rule in self._rules(db, namespace) if rule.rule_id == rule_id)

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule:
        check_position(position)
        with self._transaction() as db:
            ids = [rule.rule_id for rule in self._rules(db, namespace)]
            if rule_id not in ids:
                raise ValueError(f"no rule {rule_id} in {namespace}")
            self._renumber(db, placed(ids, rule_id, position))
            self._touch(db, namespace)
            return next(rule for rule in self._rules(db, namespace) if rule.rule_id == rule_id)

    def delete_rule(self, namespace: str, rule_id: int) -> bool:
        with self._transaction() as db:
            ids = [rule.rule_id for rule in self._rules(db, namespace)]
            if rule_id not in ids:
                return False
            ids.remove(rule_id)
            db.execute("DELETE FROM mark_rules WHERE rule_id = ?", (rule_id,))
            self._renumber(db, ids)
            self._touch(db, namespace)
        return True

    # -- users and memberships ------------------------------------------------------------------

    def create_user(self, email: str, at: float | None = None) -> User:
        user = User(new_user_id(), normalise_email(email), created_at=stamp(at))
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users (user_id, email, created_at, last_sign_in_at) VALUES (?, ?, ?, NULL)",
                    (user.user_id, user.email, user.created_at),
                )
            except sqlite3.IntegrityError as exc:
                raise UserExists(user.email) from exc
        return user

    def get_user(self, user_id: str) -> User | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return user_from_row(row) if row else None

    def get_user_by_email(self, email: str) -> User | None:
        try:
            normal = normalise_email(email)
        except InvalidEmail:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM users WHERE email = ?", (normal,)).fetchone()
        return user_from_row(row) if row else None

    def touch_sign_in(self, user_id: str, at: float | None = None) -> User:
        with self._transaction() as db:
            db.execute("UPDATE users SET last_sign_in_at = ? WHERE user_id = ?", (stamp(at), user_id))
            row = db.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            raise UserMissing(user_id)
        return user_from_row(row)

    def add_member(self, namespace: str, user_id: str, role: str = "member") -> Membership:
        membership = Membership(namespace, user_id, role)
        with self._transaction() as db:
            if not db.execute("SELECT 1 FROM workspaces WHERE namespace = ?", (namespace,)).fetchone():
                raise WorkspaceMissing(namespace)
            if not db.execute("SELECT 1 FROM users WHERE user_id = ?", (user_id,)).fetchone():
                raise UserMissing(user_id)
            try:
                db.execute(
                    "INSERT INTO memberships (namespace, user_id, role) VALUES (?, ?, ?)", (namespace, user_id, role)
                )
            except sqlite3.IntegrityError as exc:
                raise MemberExists(namespace, user_id) from exc
        return membership

    def remove_member(self, namespace: str, user_id: str) -> bool:
        with self._transaction() as db:
            if self._role(db, namespace, user_id) is None:
                return False
            self._keep_an_owner(db, namespace, user_id)
            db.execute("DELETE FROM memberships WHERE namespace = ? AND user_id = ?", (namespace, user_id))
        return True

    def change_role(self, namespace: str, user_id: str, role: str) -> Membership:
        changed = Membership(namespace, user_id, role)
        with self._transaction() as db:
            if self._role(db, namespace, user_id) is None:
                raise MemberMissing(namespace, user_id)
            if not changed.is_owner:
                self._keep_an_owner(db, namespace, user_id)
            db.execute(
                "UPDATE memberships SET role = ? WHERE namespace = ? AND user_id = ?", (role, namespace, user_id)
            )
        return changed

    @staticmethod
    def _role(db: sqlite3.Connection, namespace: str, user_id: str) -> str | None:
        row = db.execute(
            "SELECT role FROM memberships WHERE namespace = ? AND user_id = ?", (namespace, user_id)
        ).fetchone()
        return str(row["role"]) if row else None

    @staticmethod
    def _keep_an_owner(db: sqlite3.Connection, namespace: str, leaving: str) -> None:
        """Refuse when ``leaving`` is the last owner; called inside the write's transaction, so two owners
        stepping down at once cannot both pass the check."""
        owners = [
            row["user_id"]
            for row in db.execute(
                "SELECT user_id FROM memberships WHERE namespace = ? AND role = 'owner'", (namespace,)
            ).fetchall()
        ]
        if owners == [leaving]:
            raise LastOwner(namespace, leaving)

    def list_members(self, namespace: str) -> list[Membership]:
        with self._lock:
            rows = self._db.execute(
                "SELECT m.* FROM memberships m JOIN users u ON u.user_id = m.user_id "
                "WHERE m.namespace = ? ORDER BY u.email",
                (namespace,),
            ).fetchall()
        return [membership_from_row(row) for row in rows]

    def list_memberships(self, user_id: str) -> list[Membership]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM memberships WHERE user_id = ? ORDER BY namespace", (user_id,)
            ).fetchall()
        return [membership_from_row(row) for row in rows]

    # -- API keys ------------------------------------------------------------------------------------

    def create_api_key(self, key: ApiKey, at: float | None = None) -> ApiKey:
        stored = dataclasses.replace(key, created_at=stamp(at), last_used_at=None, revoked_at=None)
        with self._transaction() as db:
            if not db.execute("SELECT 1 FROM workspaces WHERE namespace = ?", (key.namespace,)).fetchone():
                raise WorkspaceMissing(key.namespace)
            if db.execute(
                "SELECT 1 FROM api_keys WHERE namespace = ? AND prefix = ?", (key.namespace, key.prefix)
            ).fetchone():
                raise KeyPrefixTaken(key.namespace, key.prefix)
            try:
                db.execute(
                    "INSERT INTO api_keys (key_id, namespace, name, scope, prefix, sha256, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key.key_id, key.namespace, key.name, key.scope, key.prefix, key.sha256, stored.created_at),
                )
            except sqlite3.IntegrityError:
                raise ValueError("that API key is stored already") from None
        return stored

    def find_api_key(self, sha256: str) -> ApiKey | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM api_keys WHERE sha256 = ? AND revoked_at IS NULL", (sha256,)
            ).fetchone()
        return key_from_row(row) if row else None

    def list_api_keys(self, namespace: str) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM api_keys WHERE namespace = ? ORDER BY created_at, key_id", (namespace,)
            ).fetchall()
        return [key_from_row(row) for row in rows]

    def revoke_api_key(self, namespace: str, prefix: str, at: float | None = None) -> ApiKey | None:
        with self._transaction() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE namespace = ? AND prefix = ? AND revoked_at IS NULL",
                (stamp(at), namespace, prefix),
            )
            row = db.execute(
                "SELECT * FROM api_keys WHERE namespace = ? AND prefix = ?", (namespace, prefix)
            ).fetchone()
        return key_from_row(row) if row else None

    def touch_api_key(self, key_id: str, at: float | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?", (stamp(at), key_id))

    def count_key_use(self, key_id: str, day: date, n: int = 1) -> None:
        if not check_use_count(n):
            return
        # INSERT ... SELECT finds no row for an unknown key, so its count is dropped without a foreign key error.
        with self._lock:
            self._db.execute(
                "INSERT INTO api_key_use (key_id, day, requests) SELECT key_id, ?, ? FROM api_keys WHERE key_id = ? "
                "ON CONFLICT (key_id, day) DO UPDATE SET requests = requests + excluded.requests",
                (day.isoformat(), n, key_id),
            )

    def list_key_use(self, namespace: str, first: date, last: date) -> list[KeyUse]:
        with self._lock:
            rows = self._db.execute(
                "SELECT u.key_id, u.day, u.requests FROM api_key_use u JOIN api_keys k ON k.key_id = u.key_id "
                "WHERE k.namespace = ? AND u.day BETWEEN ? AND ? ORDER BY u.day, u.key_id",
                (namespace, first.isoformat(), last.isoformat()),
            ).fetchall()
        return [KeyUse(row["key_id"], date.fromisoformat(row["day"]), int(row["requests"])) for row in rows]

    # -- audit ---------------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO audit (at, namespace, actor, operation, status, latency_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (entry.at, entry.namespace, entry.actor, entry.operation, entry.status, entry.latency_ms),
            )
        return dataclasses.replace(entry, entry_id=int(cursor.lastrowid or 0))

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
        query = "SELECT * FROM audit WHERE namespace = ?"
        values: list[object] = [namespace]
        # instr, not LIKE: a substring as typed (case-sensitive, no wildcards to escape), as the memory store.
        if actor is not None:
            query += " AND instr(actor, ?) > 0"
            values.append(actor)
        if operation is not None:
            query += " AND instr(operation, ?) > 0"
            values.append(operation)
        if cursor is not None:
            at, entry_id = decode_cursor(cursor)
            query += " AND (at < ? OR (at = ? AND entry_id < ?))"
            values += [at, at, entry_id]
        query += " ORDER BY at DESC, entry_id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*values, limit + 1)).fetchall()
        return page_of([audit_from_row(row) for row in rows], limit)

    def prune_audit(self, before: float) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM audit WHERE at < ?", (before,)).rowcount

    # -- webhook events ----------------------------------------------------------------------------

    def record_webhook_event(self, event_id: str, at: float | None = None) -> bool:
        check_event_id(event_id)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO webhook_events (event_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (event_id, stamp(at)),
            )
        return cursor.rowcount == 1

    def forget_webhook_event(self, event_id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM webhook_events WHERE event_id = ?", (event_id,)).rowcount > 0

    def prune_webhook_events(self, before: float) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM webhook_events WHERE received_at < ?", (before,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
