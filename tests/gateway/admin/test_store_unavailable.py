"""A store that cannot be reached is 503 STORE_UNAVAILABLE with Retry-After on the management API, for each
backend's connection-level error, whether it fails while the key is looked up or in the operation itself; a
store error that is a bug stays 500 INTERNAL. The backend's text (which can name a host) never reaches a caller."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import botocore.exceptions  # type: ignore[import-untyped]
import httpx
import psycopg
import psycopg_pool
import pytest
import redis
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.store import AccountStore
from gateway.accounts.tokens import TokenSigner
from gateway.admin import AdminContext
from gateway.admin.context import store_unreachable
from gateway.cache.memory_results import MemoryResultStore
from gateway.netguard import NetGuard
from gateway.routes.api import api_routes
from gateway.routes.api.endpoint import routes
from gateway.routes.api.runtime import ApiRuntime
from gateway.settings import Settings
from gateway.web.clientaddr import TrustedProxies

pytestmark = pytest.mark.anyio

# Each names an internal address the way the real libraries do: none of it may reach the caller.
UNREACHABLE: list[BaseException] = [
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("unable to open database file /srv/secret/accounts.db"),
    psycopg.OperationalError('connection to server at "10.1.2.3", port 5432 failed'),
    psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec (10.1.2.3)"),
    botocore.exceptions.EndpointConnectionError(endpoint_url="http://10.1.2.3:8000/"),
    botocore.exceptions.ConnectTimeoutError(endpoint_url="http://10.1.2.3:8000/"),
    redis.ConnectionError("Error 111 connecting to 10.1.2.3:6379. Connection refused."),
    redis.TimeoutError("Timeout reading from 10.1.2.3:6379"),
]


class UnreachableStore:
    """The memory store, whose calls named in ``failing`` (all of them when it holds ``"*"``) raise ``error``."""

    def __init__(self, inner: MemoryAccountStore) -> None:
        self.inner = inner
        self.error: BaseException | None = None
        self.failing: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.error is not None and ("*" in self.failing or name in self.failing):
                raise self.error
            return value(*args, **kwargs)

        return call


class Harness:
    def __init__(self, store: UnreachableStore, client: httpx.AsyncClient, secret: str) -> None:
        self.store = store
        self.client = client
        self.secret = secret

    async def get_workspace(self) -> httpx.Response:
        return await self.client.get("/_/api/v1/workspaces/acme", headers={"Authorization": f"Bearer {self.secret}"})


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    inner = MemoryAccountStore()
    inner.create_workspace(Workspace("acme"))
    secret, _ = issue_api_key(inner, "acme", "Production", "write")
    store = UnreachableStore(inner)
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(
        cast(AccountStore, store),
        Settings(data_dir=str(tmp_path)),
        box,
        TokenSigner(box),
        MemoryResultStore(),
        lambda workspace: None,
        NetGuard(),
    )
    app = Starlette(routes=[*routes(()), *api_routes()])
    app.state.api_runtime = ApiRuntime(ctx, TrustedProxies([]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield Harness(store, client, secret)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "STORE_UNAVAILABLE"
    assert response.headers["retry-after"] == "5"
    assert response.headers["cache-control"] == "no-store"
    assert "10.1.2.3" not in response.text and "/srv" not in response.text


@pytest.mark.parametrize("error", UNREACHABLE, ids=lambda error: type(error).__name__)
async def test_a_store_away_while_the_key_is_looked_up_is_503(harness: Harness, error: BaseException) -> None:
    assert (await harness.get_workspace()).status_code == 200
    harness.store.error, harness.store.failing = error, {"*"}
    _assert_unavailable(await harness.get_workspace())


@pytest.mark.parametrize("error", UNREACHABLE, ids=lambda error: type(error).__name__)
async def test_a_store_away_during_the_operation_is_503(harness: Harness, error: BaseException) -> None:
    # The key lookup works; the workspace read behind it does not.
    harness.store.error, harness.store.failing = error, {"get_workspace"}
    _assert_unavailable(await harness.get_workspace())


async def test_a_store_error_that_is_a_bug_stays_internal(harness: Harness) -> None:
    harness.store.error, harness.store.failing = sqlite3.OperationalError("no such table: workspaces"), {"*"}
    response = await harness.get_workspace()
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL"
    assert "no such table" not in response.text


def test_only_connection_level_errors_count_as_unreachable() -> None:
    assert all(store_unreachable(error) for error in UNREACHABLE)
    assert not store_unreachable(sqlite3.OperationalError("no such column: x"))
    assert not store_unreachable(psycopg.errors.UniqueViolation("duplicate key"))
    assert not store_unreachable(redis.ResponseError("WRONGTYPE"))
    assert not store_unreachable(ConnectionError("a builtin one, raised by our own code"))
    assert not store_unreachable(RuntimeError("a bug"))
