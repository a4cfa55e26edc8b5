"""The limits on the request path of the whole app: headers on every answer, 429s that are cheap, readable
by a page and never cached, and a render quota that still lets hits through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import Sent, call, running

pytestmark = pytest.mark.anyio

IMAGE = "/acme/photo-grey.jpg"
SHOP = "https://shop.example"


def store(**overrides: Any) -> MemoryAccountStore:
    accounts = MemoryAccountStore()
    accounts.create_workspace(
        Workspace(
            namespace="acme",
            origin_kind="local",
            origin={"root": str(DEMO_IMAGES)},
            limit_overrides=PlanOverrides(**overrides),
        )
    )
    return accounts


def code(sent: Sent) -> str:
    body: dict[str, dict[str, str]] = json.loads(sent.body)
    return body["error"]["code"]


async def test_every_answer_carries_the_policy_and_the_bucket(tmp_path: Path) -> None:
    async with running(tmp_path, store(), limiter="local") as app:
        first = await call(app, IMAGE, b"w=40")
        hit = await call(app, IMAGE, b"w=40")
        missing = await call(app, "/acme/nothing-here.jpg")
    policy = '"rate";q=50;w=5, "renders";q=10000, "captures";q=100, "bytes";q=5368709120;qu="content-bytes"'
    for sent in (first, hit, missing):
        assert sent.header("ratelimit-policy") == policy
    assert first.status == 200 and hit.status == 200 and missing.status == 404
    assert (first.header("ratelimit") or "").startswith('"rate";r=49;t=1, "renders";r=10000;t=')
    # The hit took a token too; the bucket refills 10 a second meanwhile, so on a slow machine it can be 49.
    hit_rate = (hit.header("ratelimit") or "").split(",")[0]
    assert hit_rate in ('"rate";r=48;t=1', '"rate";r=49;t=1'), hit_rate


async def test_over_the_rate_a_hit_is_refused_with_429_retry_after_and_cors(tmp_path: Path) -> None:
    accounts = store(requests_per_second=1, burst=5)
    async with running(tmp_path, accounts, limiter="local") as app:
        assert (await call(app, IMAGE, b"w=40")).status == 200  # the miss renders it
        answers = [await call(app, IMAGE, b"w=40", headers=[("origin", SHOP)]) for _ in range(6)]
        full_path = await call(app.app, IMAGE, b"w=40")  # the framework's route refuses the same way
    statuses = [sent.status for sent in answers]
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429, 429], statuses
    for refused in (answers[-1], full_path):
        assert refused.status == 429 and code(refused) == "RATE_LIMITED"
        assert refused.header("retry-after") == "1"
        assert refused.header("cache-control") == "no-store"
        assert (refused.header("ratelimit") or "").startswith('"rate";r=0;t=1')
        assert (refused.header("ratelimit-policy") or "").startswith('"rate";q=5;w=5')
    assert answers[-1].header("access-control-allow-origin") == "*"
    assert "RateLimit" in (answers[-1].header("access-control-expose-headers") or "")
    assert "1 requests a second" in json.loads(answers[-1].body)["error"]["message"]


async def test_a_used_up_render_quota_refuses_new_renders_and_serves_hits(tmp_path: Path) -> None:
    async with running(tmp_path, store(renders_per_month=1), limiter="local") as app:
        assert (await call(app, IMAGE, b"w=40")).header("x-imgate-cache") == "miss"
        refused = await call(app, IMAGE, b"w=41")
        again = await call(app, IMAGE, b"w=40")
        head = await call(app, IMAGE, b"w=42", method="HEAD")
    assert refused.status == 429 and code(refused) == "RATE_LIMITED"
    message = json.loads(refused.body)["error"]["message"]
    assert message.startswith("the monthly renders quota of 1 is used up; it resets at ")
    assert message.endswith("-01T00:00:00Z")
    assert int(refused.header("retry-after") or 0) > 0
    assert refused.header("ratelimit-policy") is not None and refused.header("cache-control") == "no-store"
    assert again.status == 200 and again.header("x-imgate-cache") == "memory"
    assert head.status == 429


async def test_the_bytes_quota_refuses_even_hits(tmp_path: Path) -> None:
    async with running(tmp_path, store(bytes_out_per_month=1), limiter="local") as app:
        assert (await call(app, IMAGE, b"w=40")).status == 200
        refused = await call(app, IMAGE, b"w=40")
    assert refused.status == 429
    assert "monthly bytes out quota of 1 is used up" in json.loads(refused.body)["error"]["message"]


async def test_limits_off_adds_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, store(requests_per_second=1, burst=1), limiter="off") as app:
        answers = [await call(app, IMAGE, b"w=40") for _ in range(5)]
    assert [sent.status for sent in answers] == [200] * 5
    assert answers[-1].header("ratelimit") is None
