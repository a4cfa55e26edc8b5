"""A revoked API key stops authenticating within a second on every worker process.

Two Granian workers share the account store; every probe opens a new connection, so the probes land on both
workers. Keys are looked up uncached, so the first probe after the revocation is already refused: the test
allows a second, as promised, and fails on any success after that.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.models import Workspace
from loopback.gateway import HOST
from tests.integration.api_client import API, Api, create_key
from tests.integration.servers import GatewayProcess, imgate

pytestmark = pytest.mark.integration

WITHIN_S = 1.0
PROBE_FOR_S = 2.0


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("api-keys"), workers=2)
    process.data_dir.mkdir(parents=True, exist_ok=True)
    process.add_workspace(Workspace(namespace="acme"))
    with process:
        yield process


def probe(gateway: GatewayProcess, secret: str) -> int:
    # A fresh connection each time, so the probes are spread over the workers.
    connection = http.client.HTTPConnection(HOST, gateway.port, timeout=10)
    try:
        connection.request("GET", f"{API}/key", headers={"X-API-Key": secret, "Connection": "close"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_revocation_reaches_every_worker_within_a_second(gateway: GatewayProcess, tmp_path: Path) -> None:
    admin = Api(gateway, create_key(gateway.data_dir, "acme", "Admin", "write"))
    doomed = create_key(gateway.data_dir, "acme", "Doomed", "read")
    assert all(probe(gateway, doomed) == 200 for _ in range(20))

    revoked = admin.delete(f"/workspaces/acme/keys/{doomed[:12]}")
    assert revoked.status_code == 200
    after = time.monotonic()
    last_success: float | None = None
    first_refusal: float | None = None
    probes = 0
    while time.monotonic() - after < PROBE_FOR_S:
        status = probe(gateway, doomed)
        probes += 1
        now = time.monotonic()
        if status == 200:
            last_success = now
        else:
            assert status == 401
            first_refusal = first_refusal or now
    assert first_refusal is not None and first_refusal - after < WITHIN_S
    assert last_success is None or last_success - after < WITHIN_S
    assert probes >= 50  # enough new connections that both workers were asked
    assert admin.get("/key").status_code == 200  # only that key went


def test_a_key_revoked_with_the_cli_is_refused_by_the_running_gateway(gateway: GatewayProcess) -> None:
    secret = create_key(gateway.data_dir, "acme", "Script", "read")
    assert probe(gateway, secret) == 200
    done = imgate(gateway.data_dir, "key", "revoke", "acme", secret[:12])
    assert done.returncode == 0, done.stderr
    assert all(probe(gateway, secret) == 401 for _ in range(10))
