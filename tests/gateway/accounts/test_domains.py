"""The custom domain store contract, run against the SQLite and the memory store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from tests.gateway.accounts.domains_contract import DomainsContract


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    backend: AccountStore
    if request.param == "sqlite":
        backend = SqliteAccountStore(tmp_path / "accounts.sqlite3")
    else:
        backend = MemoryAccountStore()
    try:
        yield backend
    finally:
        backend.close()


class TestDomainStores(DomainsContract):
    pass
