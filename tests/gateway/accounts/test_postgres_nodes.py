"""Two gateway nodes (``imgate serve`` processes) on one PostgreSQL account database: a workspace written once
is served by both, and a change to it reaches both within ``tenancy_ttl``."""

from __future__ import annotations

import dataclasses
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.postgres import PostgresAccountStore
from loopback.gateway import GatewayProcess
from tests.conftest import DEMO_IMAGES
from tests.gateway.accounts.postgres_support import postgres_dsn, postgres_store  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration

IMAGE = "/acme/photo-grey.jpg?w=64"


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback URL of the test's own
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[PostgresAccountStore]:
    accounts = postgres_store(request)
    try:
        yield accounts
    finally:
        accounts.close()


def test_two_nodes_serve_one_workspace_and_see_its_changes(
    store: PostgresAccountStore,
    postgres_dsn: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = {"account_store": "postgres", "database_url": postgres_dsn, "tenancy_ttl": "0.5"}
    nodes = [GatewayProcess(tmp_path / name, settings=settings) for name in ("a", "b")]
    workspace = store.create_workspace(
        Workspace(namespace="acme", origin_kind="local", origin={"root": str(DEMO_IMAGES)})
    )
    try:
        for node in nodes:
            node.start()
        assert [status(node.url + IMAGE) for node in nodes] == [200, 200]
        store.update_workspace(dataclasses.replace(workspace, active=False))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(status(node.url + IMAGE) != 404 for node in nodes):
            time.sleep(0.2)
        assert [status(node.url + IMAGE) for node in nodes] == [404, 404]
    finally:
        for node in nodes:
            node.stop()
