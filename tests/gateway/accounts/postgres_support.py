"""A real PostgreSQL database for the account store tests: one fresh database per test module.

``postgres_dsn`` (module scope) creates ``imgate_test_<random>`` on the server at 127.0.0.1:5432 (trust auth,
user ``postgres``; ``.ci/run`` starts it) and drops it after the module. ``postgres_store`` opens a store on it
with every table emptied, so each test starts from nothing as with a new SQLite file, without paying for a
database per test. A module uses the fixture by importing it (pytest finds fixtures in a module's globals).

Off CI the tests skip when no server answers; with ``CI=true`` they fail (``tests.conftest.require``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from gateway.accounts.postgres import PostgresAccountStore
from tests.conftest import require

SERVER = "host=127.0.0.1 port=5432 user=postgres connect_timeout=3"


def _server_error() -> str | None:
    try:
        with psycopg.connect(f"{SERVER} dbname=postgres"):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    error = _server_error()
    require(error is None, f"PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth): {error}")
    name = f"imgate_test_{secrets.token_hex(6)}"
    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{SERVER} dbname={name}"
    finally:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def empty_tables(dsn: str) -> None:
    """Delete every row of the store's tables (the schema and its version stay) and restart the id sequences.

    DELETE rather than TRUNCATE: on tables this small it is several times faster, and it runs before every test.
    """
    with psycopg.connect(dsn) as conn, conn.transaction():
        names = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'schema_version'"
            ).fetchall()
        ]
        for name in names:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name)))
        for (sequence,) in conn.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'").fetchall():
            conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(sequence)))


def postgres_store(request: pytest.FixtureRequest) -> PostgresAccountStore:
    """A store on the module's database, every table empty; the caller closes it."""
    dsn: str = request.getfixturevalue("postgres_dsn")
    store = PostgresAccountStore(dsn)
    empty_tables(dsn)
    return store
