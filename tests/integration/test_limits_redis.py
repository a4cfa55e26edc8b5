"""The Redis limiter on real gateways: two nodes sharing one limit through a real ``redis-server``, and a
Redis that is killed while they serve and started again."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis

from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from loopback.ports import free_port
from tests.conftest import DEMO_IMAGES
from tests.gateway.limits.load import hammer
from tests.gateway.usage.redis_process import redis_server
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration


def nodes(tmp_path: Path, url: str, rate: int, burst: int) -> tuple[GatewayProcess, GatewayProcess]:
    """Two gateways with their own data folders (two machines, as far as the node limiter knows) and one Redis."""
    settings = {"limiter": "redis", "redis_url": url, "result_store": "none"}
    pair = (GatewayProcess(tmp_path / "a", settings=settings), GatewayProcess(tmp_path / "b", settings=settings))
    for node in pair:
        node.add_workspace(
            Workspace(
                namespace="acme",
                origin_kind="local",
                origin={"root": str(DEMO_IMAGES)},
                limit_overrides=PlanOverrides(requests_per_second=rate, burst=burst),
            )
        )
    return pair


def redis_health(client: httpx.Client) -> str:
    checks = client.get("/_/health").json()["checks"]
    return str(checks["redis"]["status"])


def test_two_nodes_share_one_limit(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        a, b = nodes(tmp_path, url, 100, 100)
        seconds = 3.0
        with a, b:
            path = "/acme/photo-grey.jpg?w=40"
            statuses = hammer([a.url + path, b.url + path], seconds, threads_per_url=3)
    expected = 100 + 100 * seconds
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[429] > statuses[200], statuses
    assert abs(statuses[200] - expected) <= 0.1 * expected, statuses


def test_redis_killed_mid_test_and_restarted(tmp_path: Path) -> None:
    port = free_port()
    with redis_server(tmp_path, port) as url:
        a, _ = nodes(tmp_path, url, 1000, 1000)
        a.start()
        with httpx.Client(base_url=a.url, timeout=10) as client:
            assert all(client.get("/acme/photo-grey.jpg?w=40").status_code == 200 for _ in range(20))
            assert redis_health(client) == "ok"
            assert redis_keys(port)  # the node's leases come from Redis
    # Here the server is killed, with the gateway serving.
    try:
        with httpx.Client(base_url=a.url, timeout=10) as client:
            # Redis went away while the node was up: every request is still answered, limited by the node.
            answers = [client.get("/acme/photo-grey.jpg?w=40") for _ in range(30)]
            assert [answer.status_code for answer in answers] == [200] * 30
            assert "ratelimit" in answers[-1].headers
            assert redis_health(client) == "degraded"
            health = client.get("/_/health")
            assert health.status_code == 200 and health.json()["status"] == "degraded"
            with redis_server(tmp_path, port):
                end = time.monotonic() + 10
                while redis_health(client) != "ok" and time.monotonic() < end:
                    client.get("/acme/photo-grey.jpg?w=40")
                    time.sleep(0.1)
                assert redis_health(client) == "ok"
                # Leases come from Redis again: the bucket exists there. A request asks for its lease in the background
                # and is answered before the lease lands, so requests go on until the bucket shows (or the deadline).
                end = time.monotonic() + 10
                keys: list[bytes] = []
                while not any(key.startswith(b"imgate:rate:acme") for key in keys) and time.monotonic() < end:
                    assert client.get("/acme/photo-grey.jpg?w=40").status_code == 200
                    time.sleep(0.05)
                    keys = redis_keys(port)
                assert any(key.startswith(b"imgate:rate:acme") for key in keys), keys
    finally:
        a.stop()


def redis_keys(port: int) -> list[bytes]:
    return list(redis.Redis(port=port).keys("imgate:rate:*"))  # type: ignore[arg-type]
