"""The usage store contract, run against every account store's usage counters and against Redis."""

from __future__ import annotations

import secrets
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gateway.accounts.dynamodb import DynamoAccountStore
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.postgres import PostgresAccountStore
from gateway.accounts.redis_usage import RedisUsageStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from gateway.accounts.usage import UsageCounts, UsageStore
from tests.gateway.accounts.dynamodb_support import dynamodb_store, dynamodb_table  # noqa: F401 - a fixture
from tests.gateway.accounts.postgres_support import (  # noqa: F401 - postgres_dsn: a fixture
    SERVER,
    postgres_dsn,
    postgres_store,
)
from tests.gateway.accounts.usage_contract import DAY, Outage, UsageStoreContract
from tests.gateway.usage.redis_process import redis_server
from tests.support.moto_server import REGION, MotoServer


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


@contextmanager
def silent_listener(port: int) -> Iterator[None]:
    """A socket on ``port`` that takes connections and never answers: an endpoint that hangs."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(16)  # the kernel completes the handshakes; nothing ever reads or writes
        yield


@pytest.fixture(params=["redis", "postgres", "dynamodb"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    """A store on a server of this test's own, so taking it away disturbs no other test."""
    with ExitStack() as stack:
        if request.param == "redis":
            server = ExitStack()
            stack.callback(server.close)
            url = server.enter_context(redis_server(tmp_path))
            redis_usage = RedisUsageStore(url)
            stack.callback(redis_usage.close)
            host, port = url.removeprefix("redis://").removesuffix("/0").rsplit(":", 1)
            yield Outage(redis_usage, server.close, (host, port))
        elif request.param == "postgres":
            request.getfixturevalue("postgres_dsn")  # the server answers (or the test skips, off CI)
            database = f"imgate_test_{secrets.token_hex(6)}"
            name = sql.Identifier(database)

            def admin(statement: sql.Composed) -> None:
                with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as conn:
                    conn.execute(statement)

            def drop() -> None:
                admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))

            admin(sql.SQL("CREATE DATABASE {}").format(name))
            stack.callback(drop)
            accounts = PostgresAccountStore(f"{SERVER} dbname={database}")
            stack.callback(accounts.close)
            # Dropped under the pool's connection: the pool reconnects and logs each refusal, whose text names
            # the server and the database.
            yield Outage(accounts.usage, drop, ("127.0.0.1", "5432", database))
        else:
            moto: MotoServer = request.getfixturevalue("own_moto")
            table = f"imgate-test-{secrets.token_hex(6)}"
            dynamo = DynamoAccountStore(table, region=REGION, endpoint_url=moto.endpoint)
            stack.callback(dynamo.close)

            def hang() -> None:
                # The endpoint still takes connections but never answers: only a read timeout ends a call, and
                # the table's own client would wait 10 s for each of its three attempts.
                moto.stop()
                stack.enter_context(silent_listener(moto.port))

            yield Outage(dynamo.usage, hang, ("127.0.0.1", str(moto.port)))


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
