"""The custom domain store contract, run against the SQLite and the memory store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.domains import VERIFIED, Domain, DomainTaken
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.sqlite_schema import MIGRATIONS
from gateway.accounts.store import AccountStore
from tests.gateway.accounts.domains_contract import DomainsContract
from tests.gateway.accounts.dynamodb_support import dynamodb_store, dynamodb_table  # noqa: F401 - a fixture
from tests.gateway.accounts.postgres_support import postgres_dsn, postgres_store  # noqa: F401 - postgres_dsn: a fixture


@pytest.fixture(params=["sqlite", "memory", "postgres", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    backend: AccountStore
    if request.param == "sqlite":
        backend = SqliteAccountStore(tmp_path / "accounts.sqlite3")
    elif request.param == "postgres":
        backend = postgres_store(request)
    elif request.param == "dynamodb":
        backend = dynamodb_store(request)
    else:
        backend = MemoryAccountStore()
    try:
        yield backend
    finally:
        backend.close()


class TestDomainStores(DomainsContract):
    pass


def test_an_older_sqlite_file_keeps_its_domains_and_takes_claims_per_workspace(tmp_path: Path) -> None:
    # A file made before domains were keyed by (hostname, workspace): one row per hostname.
    before = next(i for i, text in enumerate(MIGRATIONS) if "domains_by_claim" in text)
    path = tmp_path / "accounts.sqlite3"
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:before]:
        for statement in filter(str.strip, migration.split(";")):
            db.execute(statement)
    # The workspace as that version had it: every required column given a value of its type.
    required = [(name, kind) for _, name, kind, notnull, default, _ in db.execute("PRAGMA table_info(workspaces)")
                if notnull and default is None]  # fmt: skip
    values = ["acme", *(0 if kind in ("INTEGER", "REAL") else "" for _, kind in required)]
    columns = ", ".join(["namespace", *(name for name, _ in required)])
    db.execute(f"INSERT INTO workspaces ({columns}) VALUES ({', '.join('?' for _ in values)})", values)  # noqa: S608
    db.execute("INSERT INTO domains VALUES ('img.acme.test', 'acme', 'verified', '', 'tok', 1.0, 2.0, 0)")
    db.execute(f"PRAGMA user_version = {before}")
    db.commit()
    db.close()
    store = SqliteAccountStore(path)
    try:
        store.create_workspace(Workspace("rival"))
        assert store.domains.routed("img.acme.test") == Domain("img.acme.test", "acme", VERIFIED, "", "tok", 1.0, 2.0)
        with pytest.raises(DomainTaken):
            store.domains.add(Domain("img.acme.test", "rival"), limit=2)
        assert store.domains.add(Domain("cdn.acme.test", "rival"), limit=2).state == "pending"
        assert store.domains.add(Domain("cdn.acme.test", "acme"), limit=2).namespace == "acme"
    finally:
        store.close()
