"""The embedded account store: one SQLite file, schema migrations versioned with ``PRAGMA user_version``."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from gateway.accounts.models import PurgeMarker, Workspace
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

    def close(self) -> None:
        with self._lock:
            self._db.close()
