"""The account store contract, run against every account store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from tests.gateway.accounts.contract import AccountsContract, AccountStoreContract
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


class TestAccountStores(AccountStoreContract, AccountsContract):
    pass
