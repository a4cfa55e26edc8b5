"""The node-wide in-process limiter on a real gateway: two Granian workers hold one limit between them, and
the monthly quotas survive a restart through the usage counters."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from tests.conftest import DEMO_IMAGES
from tests.gateway.limits.load import hammer
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration


def workspace(**overrides: int) -> Workspace:
    return Workspace(
        namespace="acme",
        origin_kind="local",
        origin={"root": str(DEMO_IMAGES)},
        limit_overrides=PlanOverrides(**overrides),  # type: ignore[arg-type]
    )


def test_two_workers_admit_the_nodes_rate_not_twice_it(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path / "gw", workers=2, limiter="local", result_store="none")
    gateway.add_workspace(workspace(requests_per_second=100, burst=100))
    seconds = 3.0
    with gateway:
        url = f"{gateway.url}/acme/photo-grey.jpg?w=40"
        statuses = hammer([url], seconds, threads_per_url=6)
    expected = 100 + 100 * seconds  # the burst, then the rate
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[429] > statuses[200], statuses  # the load was well over the limit
    assert abs(statuses[200] - expected) <= 0.1 * expected, statuses


def test_a_monthly_quota_is_reached_says_when_it_resets_and_survives_a_restart(tmp_path: Path) -> None:
    settings = {"limiter": "local", "usage_flush_interval": "0.2", "quota_refresh": "0.2"}
    data = tmp_path / "gw"
    gateway = GatewayProcess(data, settings=settings)
    gateway.add_workspace(workspace(renders_per_month=2))
    with gateway, httpx.Client(base_url=gateway.url) as client:
        assert client.get("/acme/photo-grey.jpg?w=40").status_code == 200
        assert client.get("/acme/photo-grey.jpg?w=41").status_code == 200
        refused = client.get("/acme/photo-grey.jpg?w=42", headers={"Origin": "https://shop.example"})
        hit = client.get("/acme/photo-grey.jpg?w=40")
    assert refused.status_code == 429 and refused.headers["cache-control"] == "no-store"
    error = json.loads(refused.text)["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["message"].startswith("the monthly renders quota of 2 is used up; it resets at ")
    reset = error["message"].rsplit(" ", 1)[1]
    now = time.gmtime()
    month_after = (now.tm_year + now.tm_mon // 12, now.tm_mon % 12 + 1)
    assert reset == f"{month_after[0]:04d}-{month_after[1]:02d}-01T00:00:00Z"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["access-control-allow-origin"] == "*"
    assert '"renders";r=0;' in refused.headers["ratelimit"]
    assert hit.status_code == 200 and hit.headers["x-imgate-cache"] == "memory"
    # A new process knows nothing but what the usage counters kept (flushed at the clean shutdown).
    with GatewayProcess(data, settings=settings) as again, httpx.Client(base_url=again.url) as client:
        assert client.get("/acme/photo-grey.jpg?w=43").status_code == 429
