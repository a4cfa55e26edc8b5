"""``LimitHooks`` on its own, with a clock moved by hand: what admit returns and refuses, what record counts,
and a quota used up on the last day of a month that is whole again on the first."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.accounts.memory_usage import MemoryUsageStore
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.usage import UsageCounts
from gateway.cache.keys import Kind
from gateway.delivery.hooks import Outcome
from gateway.errors import RateLimited
from gateway.limits.hooks import LimitHooks
from gateway.limits.node import NodeLimiter
from gateway.limits.quotas import MonthlyQuotas
from gateway.tenancy import Tenant, compile_policy
from tests.gateway.limits.clock import HandClock

pytestmark = pytest.mark.anyio


class Plan:
    """Just what ``LimitHooks.before_render`` reads of a ``RequestPlan``."""

    def __init__(self, tenant: Tenant, kind: Kind) -> None:
        self.tenant, self.kind = tenant, kind
        self.namespace = tenant.workspace.namespace


def tenant(revision: int = 1, **overrides: Any) -> Tenant:
    workspace = Workspace(
        namespace="acme",
        origin_kind="local",
        origin={"root": "/srv"},
        limit_overrides=PlanOverrides(**overrides),
        revision=revision,
    )
    return Tenant(workspace, None, compile_policy(workspace))


def hooks(tmp_path: Path, clock: HandClock, usage: MemoryUsageStore | None = None) -> tuple[LimitHooks, list[str]]:
    refused: list[str] = []
    store = usage or MemoryUsageStore(lambda namespace: True)
    limits = LimitHooks(
        NodeLimiter(tmp_path / "limits.bin", clock), MonthlyQuotas(store.month_totals, clock), refused.append
    )
    return limits, refused


def outcome(tier: str | None, kind: Kind | None, bytes_out: int) -> Outcome:
    return Outcome("acme", 200, tier, None, kind, bytes_out, 0.01)


async def test_admit_returns_both_fields_and_refuses_with_them(tmp_path: Path) -> None:
    clock = HandClock()
    limits, refused = hooks(tmp_path, clock)
    workspace = tenant(requests_per_second=2, burst=3)
    headers = dict(limits.admit(workspace))
    assert headers[b"ratelimit-policy"].startswith(b'"rate";q=3;w=2, "renders";q=10000')
    assert headers[b"ratelimit"].startswith(b'"rate";r=2;t=1, "renders";r=10000;t=60, ')
    limits.admit(workspace)
    limits.admit(workspace)
    with pytest.raises(RateLimited) as refusal:
        limits.admit(workspace)
    assert refusal.value.headers["Retry-After"] == "1"
    assert refusal.value.headers["RateLimit"].startswith('"rate";r=0;t=1')
    assert refusal.value.headers["RateLimit-Policy"].startswith('"rate";q=3;w=2')
    assert refused == ["rate"]
    clock.advance(0.5)  # one token back
    limits.admit(workspace)


async def test_a_plan_change_shows_with_the_next_revision(tmp_path: Path) -> None:
    limits, _ = hooks(tmp_path, HandClock())
    assert dict(limits.admit(tenant(1)))[b"ratelimit-policy"].startswith(b'"rate";q=50;w=5')
    changed = tenant(2, requests_per_second=100, burst=500)
    assert dict(limits.admit(changed))[b"ratelimit-policy"].startswith(b'"rate";q=500;w=5')


async def test_renders_and_captures_are_counted_from_misses_only(tmp_path: Path) -> None:
    clock = HandClock()
    limits, refused = hooks(tmp_path, clock)
    workspace = tenant(renders_per_month=2, captures_per_month=1)
    limits.admit(workspace)
    render, capture = Plan(workspace, Kind.ORIGIN), Plan(workspace, Kind.CAPTURE)
    await limits.before_render(render)  # type: ignore[arg-type]
    for tier in ("memory", "store", "coalesced", None):
        limits.record(outcome(tier, Kind.ORIGIN, 100))
    limits.record(outcome("miss", Kind.SRC, 100))
    await limits.before_render(render)  # type: ignore[arg-type]
    limits.record(outcome("miss", Kind.ORIGIN, 100))
    with pytest.raises(RateLimited, match="monthly renders quota of 2"):
        await limits.before_render(render)  # type: ignore[arg-type]
    await limits.before_render(capture)  # type: ignore[arg-type]
    limits.record(outcome("miss", Kind.CAPTURE, 100))
    with pytest.raises(RateLimited, match="monthly captures quota of 1"):
        await limits.before_render(capture)  # type: ignore[arg-type]
    assert refused == ["renders", "captures"]


async def test_a_used_up_month_is_whole_again_on_the_first(tmp_path: Path) -> None:
    clock = HandClock()  # 2026-11-30 23:59 UTC
    usage = MemoryUsageStore(lambda namespace: True)
    usage.add("acme", date(2026, 11, 12), UsageCounts(bytes_out=1000))
    limits, _ = hooks(tmp_path, clock, usage)
    workspace = tenant(bytes_out_per_month=1000)
    limits.admit(workspace)  # the first request of the month here: the totals are read in the background
    await asyncio.sleep(0.1)
    with pytest.raises(RateLimited) as refusal:
        limits.admit(workspace)
    assert refusal.value.message.endswith("it resets at 2026-12-01T00:00:00Z")
    assert refusal.value.headers["Retry-After"] == "60"
    clock.advance(60)
    headers = dict(limits.admit(workspace))
    assert b'"bytes";r=1000;t=2678400' in headers[b"ratelimit"]  # December: 31 days to go
