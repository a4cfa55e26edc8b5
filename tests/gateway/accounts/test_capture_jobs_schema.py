"""The capture_jobs table has a column for every ``CaptureJob`` field in both SQL stores: a field added with one
store's migration only fails here, naming the migration list it is missing from."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import psycopg

from gateway.accounts.capture_jobs import CaptureJob, JobResult
from gateway.accounts.postgres import PostgresAccountStore
from gateway.accounts.sqlite import SqliteAccountStore
from tests.gateway.accounts.postgres_support import postgres_dsn  # noqa: F401 - a fixture


def _fields() -> set[str]:
    """The columns a job needs: its fields, with the result's as ``result_<name>``."""
    own = {f.name for f in dataclasses.fields(CaptureJob) if f.name != "result"}
    return own | {f"result_{f.name}" for f in dataclasses.fields(JobResult)}


def test_sqlite_has_a_column_for_every_job_field(tmp_path: Path) -> None:
    SqliteAccountStore(tmp_path / "accounts.sqlite3").close()
    with sqlite3.connect(tmp_path / "accounts.sqlite3") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(capture_jobs)")}
    assert columns == _fields(), "add a migration to sqlite_schema.MIGRATIONS"
    assert {"webhook_due_at", "webhook_attempts"} <= columns


def test_postgres_has_a_column_for_every_job_field(postgres_dsn: str) -> None:  # noqa: F811
    PostgresAccountStore(postgres_dsn).close()
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'capture_jobs'"
        ).fetchall()
    assert {row[0] for row in rows} == _fields(), "add a migration to postgres_schema.MIGRATIONS"
