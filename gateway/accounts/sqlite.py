"""The embedded account store: one SQLite file, schema migrations versioned with ``PRAGMA user_version``."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from gateway.accounts.models import MarkPreset, MarkRule, PurgeMarker, Workspace
from gateway.accounts.store import WorkspaceExists, WorkspaceMissing

# Append only: a released migration is never edited; the index + 1 is the schema version it produces.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE workspaces (
        namespace TEXT PRIMARY KEY,
        active INTEGER NOT NULL,
        origin_kind TEXT NOT NULL,
        origin TEXT NOT NULL,
        origin_secret_sealed TEXT NOT NULL,
        allowed_origins TEXT NOT NULL,
        allowed_sources TEXT NOT NULL,
        allowed_capture_domains TEXT NOT NULL,
        capture_retention INTEGER NOT NULL,
        plan TEXT NOT NULL,
        purges TEXT NOT NULL,
        created_at REAL NOT NULL,
        revision INTEGER NOT NULL
    );
    """,
    """
    CREATE TABLE marks (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        image_data BLOB NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (namespace, name)
    );
    CREATE TABLE mark_rules (
        rule_id INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        preset TEXT NOT NULL,
        key_patterns TEXT NOT NULL,
        src_host_patterns TEXT NOT NULL
    );
    CREATE INDEX mark_rules_by_namespace ON mark_rules (namespace, position);
    """,
)

_LIST_FIELDS = ("allowed_origins", "allowed_sources", "allowed_capture_domains")


def _to_row(ws: Workspace) -> dict[str, Any]:
    row: dict[str, Any] = {f.name: getattr(ws, f.name) for f in dataclasses.fields(Workspace)}
    row["active"] = int(ws.active)
    row["origin"] = json.dumps(dict(ws.origin), sort_keys=True)
    for name in _LIST_FIELDS:
        row[name] = json.dumps(list(row[name]))
    row["purges"] = json.dumps([[p.prefix, p.at] for p in ws.purges])
    return row


def _from_row(row: sqlite3.Row) -> Workspace:
    data = dict(row)
    data["active"] = bool(data["active"])
    data["origin"] = json.loads(data["origin"])
    for name in _LIST_FIELDS:
        data[name] = tuple(json.loads(data[name]))
    data["purges"] = tuple(PurgeMarker(prefix, at) for prefix, at in json.loads(data["purges"]))
    return Workspace(**data)


def _mark_from_row(row: sqlite3.Row) -> MarkPreset:
    settings = json.loads(row["settings"])
    return MarkPreset(
        namespace=row["namespace"],
        name=row["name"],
        image_data=bytes(row["image_data"]),
        updated_at=float(row["updated_at"]),
        **settings,
    )


def _rule_from_row(row: sqlite3.Row) -> MarkRule:
    return MarkRule(
        namespace=row["namespace"],
        rule_id=int(row["rule_id"]),
        position=int(row["position"]),
        preset=row["preset"],
        key_patterns=tuple(json.loads(row["key_patterns"])),
        src_host_patterns=tuple(json.loads(row["src_host_patterns"])),
    )


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

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        for index in range(version, len(MIGRATIONS)):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in filter(str.strip, MIGRATIONS[index].split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {index + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def get_workspace(self, namespace: str) -> Workspace | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM workspaces WHERE namespace = ?", (namespace,)).fetchone()
        return _from_row(row) if row else None

    def list_workspaces(self) -> list[Workspace]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM workspaces ORDER BY namespace").fetchall()
        return [_from_row(row) for row in rows]

    def create_workspace(self, workspace: Workspace) -> Workspace:
        stored = dataclasses.replace(workspace, created_at=time.time(), revision=1)
        row = _to_row(stored)
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with self._lock:
            try:
                self._db.execute(f"INSERT INTO workspaces ({columns}) VALUES ({marks})", row)  # noqa: S608
            except sqlite3.IntegrityError as exc:
                raise WorkspaceExists(workspace.namespace) from exc
        return stored

    def update_workspace(self, workspace: Workspace) -> Workspace:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self._db.execute(
                    "SELECT revision, created_at FROM workspaces WHERE namespace = ?", (workspace.namespace,)
                ).fetchone()
                if current is None:
                    raise WorkspaceMissing(workspace.namespace)
                stored = dataclasses.replace(
                    workspace, revision=int(current["revision"]) + 1, created_at=float(current["created_at"])
                )
                row = _to_row(stored)
                # Column names come from the dataclass, never from input; values are bound parameters.
                assignments = ", ".join(f"{name} = :{name}" for name in row if name != "namespace")
                statement = f"UPDATE workspaces SET {assignments} WHERE namespace = :namespace"  # noqa: S608
                self._db.execute(statement, row)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return stored

    def delete_workspace(self, namespace: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM workspaces WHERE namespace = ?", (namespace,))
        return cursor.rowcount > 0

    # -- marks and rules ------------------------------------------------------------------------

    def _touch(self, namespace: str) -> None:
        """Bump the workspace's revision so every tenancy cache reloads its marks and rules."""
        cursor = self._db.execute("UPDATE workspaces SET revision = revision + 1 WHERE namespace = ?", (namespace,))
        if cursor.rowcount == 0:
            raise WorkspaceMissing(namespace)

    def _write(self, namespace: str, *statements: tuple[str, tuple[Any, ...]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
                self._touch(namespace)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def list_marks(self, namespace: str) -> list[MarkPreset]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM marks WHERE namespace = ? ORDER BY name", (namespace,)).fetchall()
        return [_mark_from_row(row) for row in rows]

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        stored = dataclasses.replace(mark, updated_at=time.time())
        settings = {
            f.name: getattr(stored, f.name)
            for f in dataclasses.fields(MarkPreset)
            if f.name not in ("namespace", "name", "image_data", "updated_at")
        }
        self._write(
            mark.namespace,
            (
                "INSERT OR REPLACE INTO marks (namespace, name, settings, image_data, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (mark.namespace, mark.name, json.dumps(settings, sort_keys=True), stored.image_data, stored.updated_at),
            ),
        )
        return stored

    def delete_mark(self, namespace: str, name: str) -> bool:
        if any(rule.preset == name for rule in self.list_rules(namespace)):
            raise ValueError(f"mark {name} is used by an auto-apply rule; delete or change the rule first")
        with self._lock:
            exists = self._db.execute(
                "SELECT 1 FROM marks WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
        if not exists:
            return False
        self._write(namespace, ("DELETE FROM marks WHERE namespace = ? AND name = ?", (namespace, name)))
        return True

    def list_rules(self, namespace: str) -> list[MarkRule]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM mark_rules WHERE namespace = ? ORDER BY position, rule_id", (namespace,)
            ).fetchall()
        return [_rule_from_row(row) for row in rows]

    @staticmethod
    def _renumber(ordered_ids: list[int]) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            ("UPDATE mark_rules SET position = ? WHERE rule_id = ?", (index, rule_id))
            for index, rule_id in enumerate(ordered_ids, start=1)
        ]

    def add_rule(
        self,
        namespace: str,
        preset: str,
        key_patterns: tuple[str, ...],
        src_host_patterns: tuple[str, ...],
        position: int | None = None,
    ) -> MarkRule:
        if preset not in {mark.name for mark in self.list_marks(namespace)}:
            raise ValueError(f"no mark preset named {preset}")
        MarkRule(namespace, 0, 1, preset, key_patterns, src_host_patterns)  # validates
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO mark_rules (namespace, position, preset, key_patterns, src_host_patterns) "
                "VALUES (?, ?, ?, ?, ?)",
                (namespace, 1_000_000, preset, json.dumps(list(key_patterns)), json.dumps(list(src_host_patterns))),
            )
            rule_id = int(cursor.lastrowid or 0)
        return self.move_rule(namespace, rule_id, position or 1_000_000)

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule:
        ids = [rule.rule_id for rule in self.list_rules(namespace)]
        if rule_id not in ids:
            raise ValueError(f"no rule {rule_id} in {namespace}")
        ids.remove(rule_id)
        ids.insert(max(0, min(position - 1, len(ids))), rule_id)
        self._write(namespace, *self._renumber(ids))
        return next(rule for rule in self.list_rules(namespace) if rule.rule_id == rule_id)

    def delete_rule(self, namespace: str, rule_id: int) -> bool:
        ids = [rule.rule_id for rule in self.list_rules(namespace)]
        if rule_id not in ids:
            return False
        ids.remove(rule_id)
        self._write(
            namespace,
            ("DELETE FROM mark_rules WHERE rule_id = ?", (rule_id,)),
            *self._renumber(ids),
        )
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()
