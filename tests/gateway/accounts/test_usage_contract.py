"""The usage store contract, run against the SQLite and memory account stores and against Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.redis_usage import RedisUsageStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from gateway.accounts.usage import UsageCounts, UsageStore
from tests.gateway.accounts.dynamodb_support import dynamodb_store, dynamodb_table  # noqa: F401 - a fixture
from tests.gateway.accounts.postgres_support import postgres_dsn, postgres_store  # noqa: F401 - postgres_dsn: a fixture
from tests.gateway.accounts.usage_contract import DAY, UsageStoreContract
from tests.gateway.usage.redis_process import redis_server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["sqlite", "memory", "redis", "postgres", "dynamodb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AccountStore, UsageStore]]:
    accounts: AccountStore
    if request.param == "postgres":
        accounts = postgres_store(request)
    elif request.param == "dynamodb":
        accounts = dynamodb_store(request)
    else:
        accounts = (
            SqliteAccountStore(tmp_path / "accounts.sqlite3") if request.param == "sqlite" else MemoryAccountStore()
        )
    try:
        if request.param == "redis":
            url = request.getfixturevalue("redis_url")
            # A prefix of the test's own, so the module's one server starts every test empty.
            redis_usage = RedisUsageStore(url, prefix=f"test-{uuid.uuid4().hex}:")
            try:
                yield accounts, redis_usage
            finally:
                redis_usage.close()
        else:
            yield accounts, accounts.usage
    finally:
        accounts.close()


@pytest.fixture
def usage(backend: tuple[AccountStore, UsageStore]) -> UsageStore:
    return backend[1]


@pytest.fixture
def workspace(backend: tuple[AccountStore, UsageStore]) -> Callable[[str], None]:
    def create(namespace: str) -> None:
        backend[0].create_workspace(Workspace(namespace=namespace))

    return create


class TestUsageStores(UsageStoreContract):
    pass


@pytest.fixture(params=["sqlite", "memory", "postgres", "dynamodb"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    store: AccountStore
    if request.param == "postgres":
        store = postgres_store(request)
    elif request.param == "dynamodb":
        store = dynamodb_store(request)
    else:
        store = SqliteAccountStore(tmp_path / "accounts.sqlite3") if request.param == "sqlite" else MemoryAccountStore()
    try:
        yield store
    finally:
        store.close()


def test_the_account_stores_drop_counts_of_unknown_workspaces(accounts: AccountStore) -> None:
    accounts.create_workspace(Workspace(namespace="acme"))
    accounts.usage.add_batch({("acme", DAY): UsageCounts(requests=1), ("ghost", DAY): UsageCounts(requests=9)})
    assert [u.requests for u in accounts.usage.days("acme", DAY, DAY)] == [1]
    assert accounts.usage.days("ghost", DAY, DAY) == []


def test_counters_go_with_their_workspace(accounts: AccountStore) -> None:
    accounts.create_workspace(Workspace(namespace="acme"))
    accounts.usage.add("acme", DAY, UsageCounts(requests=3, errors={"NOT_FOUND": 1}))
    assert accounts.delete_workspace("acme")
    accounts.create_workspace(Workspace(namespace="acme"))
    assert accounts.usage.days("acme", date(2026, 1, 1), date(2026, 12, 31)) == []


def test_the_usage_tables_come_with_a_migration(tmp_path: Path) -> None:
    path = tmp_path / "accounts.sqlite3"
    first = SqliteAccountStore(path)
    first.create_workspace(Workspace(namespace="acme"))
    first.usage.add("acme", DAY, UsageCounts(requests=2))
    first.close()
    again = SqliteAccountStore(path)  # a second process opening the migrated file
    try:
        assert [u.requests for u in again.usage.days("acme", DAY, DAY)] == [2]
    finally:
        again.close()
