"""Copy an install's SQLite account file into a PostgreSQL account database (``imgate store migrate``).

Both schemas have the same tables and columns (``gateway.accounts.postgres_schema``), so the copy is table by
table, parents before the tables that refer to them, every row with its own ids. It is:

- idempotent: a row whose key is there already is skipped (``ON CONFLICT DO NOTHING``), so a second run adds
  nothing;
- resumable: each batch is its own transaction, so a run that stopped half-way keeps what it wrote and the
  next run adds the rest;
- checked: afterwards each table must hold as many rows in PostgreSQL as in SQLite. A target that had rows of
  its own (another install's) fails that check, naming the table, rather than merging two installs silently.

Both stores are opened (and so migrated to this release's schema) before anything is copied. The gateway
should be stopped meanwhile: rows written to SQLite during the copy may be missed (run it again after).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from gateway.accounts.postgres import PostgresAccountStore
from gateway.accounts.sqlite import SqliteAccountStore

# Parents first: a row is copied after the row its foreign key names.
TABLES: tuple[str, ...] = (
    "workspaces",
    "marks",
    "mark_rules",
    "users",
    "memberships",
    "api_keys",
    "api_key_use",
    "audit",
    "webhook_events",
    "usage_days",
    "usage_errors",
    "signin_codes",
    "sessions",
    "domains",
    "capture_jobs",
    "capture_workers",
    "capture_webhook_secrets",
)
BATCH = 1000


class CopyError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    source_rows: int
    copied: int  # rows this run inserted (0 on a run after a complete one)
    target_rows: int


def copy_sqlite_to_postgres(
    sqlite_path: Path, dsn: str, *, progress: Callable[[TableCopy], None] | None = None
) -> list[TableCopy]:
    """Copy every table; one ``TableCopy`` per table. ``CopyError`` when the counts differ afterwards."""
    if not sqlite_path.is_file():
        raise CopyError("no SQLite account file there")
    SqliteAccountStore(sqlite_path).close()  # brings the file to this release's schema
    target = PostgresAccountStore(dsn, max_connections=1)
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    source.row_factory = sqlite3.Row
    try:
        _check_tables(source, target)
        done = []
        for table in TABLES:
            copied = _copy_table(source, target, table)
            done.append(copied)
            if progress is not None:
                progress(copied)
    finally:
        source.close()
        target.close()
    wrong = [c.table for c in done if c.source_rows != c.target_rows]
    if wrong:
        raise CopyError(
            "row counts differ after the copy in " + ", ".join(wrong) + ": the PostgreSQL database holds rows "
            "that are not in the SQLite file (copy into an empty database)"
        )
    return done


def _check_tables(source: sqlite3.Connection, target: PostgresAccountStore) -> None:
    names = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    targets = {row["tablename"] for row in target.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    for table in TABLES:
        if table not in names or table not in targets:
            raise CopyError(f"table {table} is missing on one side: both stores must be of this release")
    unknown = targets - set(TABLES) - {"schema_version"}
    if unknown:
        raise CopyError("tables this copy does not know: " + ", ".join(sorted(unknown)))


def _columns(source: sqlite3.Connection, target: PostgresAccountStore, table: str) -> list[str]:
    # PRAGMA takes no bound parameters; the table name is one of TABLES, never input.
    theirs = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    ours = {
        row["column_name"]
        for row in target.query("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
    }
    missing = [column for column in theirs if column not in ours]
    if missing:
        raise CopyError(f"table {table}: PostgreSQL has no column " + ", ".join(missing))
    return theirs


def _copy_table(source: sqlite3.Connection, target: PostgresAccountStore, table: str) -> TableCopy:
    columns = _columns(source, target, table)
    names = sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    marks = sql.SQL(", ").join(sql.Placeholder() for _ in columns)
    identity = {
        row["column_name"]
        for row in target.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_identity = 'YES'",
            (table,),
        )
    }
    # Ids are copied as they are (API keys, rules and audit cursors refer to them), so identity columns are
    # overridden and their sequences moved past the copied ids afterwards.
    overriding = sql.SQL(" OVERRIDING SYSTEM VALUE") if identity else sql.SQL("")
    insert = sql.SQL("INSERT INTO {} ({}){} VALUES ({}) ON CONFLICT DO NOTHING").format(
        sql.Identifier(table), names, overriding, marks
    )
    quoted = ", ".join(f'"{column}"' for column in columns)
    reader = source.execute(f"SELECT {quoted} FROM {table}")  # noqa: S608 - names from the schemas
    copied = 0
    while batch := reader.fetchmany(BATCH):
        with target.transaction() as db, db.cursor() as cursor:
            for row in batch:
                cursor.execute(insert, tuple(row))
                copied += cursor.rowcount
    with target.transaction() as db:
        for column in identity:
            # Past the highest id the table holds now, so the next one inserted never reuses a copied id.
            db.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({0}), 1), MAX({0}) IS NOT NULL) "
                    "FROM {1}"
                ).format(sql.Identifier(column), sql.Identifier(table)),
                (table, column),
            )
    # Table names here are TABLES' constants, never input.
    source_rows = int(source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
    target_rows = int(target.query(f'SELECT COUNT(*) AS n FROM "{table}"')[0]["n"])  # noqa: S608
    return TableCopy(table, source_rows, copied, target_rows)
