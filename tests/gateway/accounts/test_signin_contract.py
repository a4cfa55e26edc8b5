"""The sign-in store contract against both account stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from tests.gateway.accounts.signin_contract import SignInStoreContract


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    backend: AccountStore = (
        SqliteAccountStore(tmp_path / "accounts.sqlite3") if request.param == "sqlite" else MemoryAccountStore()
    )
    try:
        yield backend
    finally:
        backend.close()


class TestSignInStores(SignInStoreContract):
    pass
