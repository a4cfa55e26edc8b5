"""The workspace's plan limits on the request path are worked out once per revision of the workspace: by the
tenancy step, when it makes the tenant, and read from there by the plan step (a capture's pool, the retention in
force) and by the limits (admit and the render gate) however many URLs are planned and admitted; a revision
with another plan is worked out once more, and shows."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import quote

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.memory_usage import MemoryUsageStore
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanLimits, PlanOverrides
from gateway.cache.keys import Kind
from gateway.delivery.plans import Planner
from gateway.limits.hooks import LimitHooks
from gateway.limits.node import NodeLimiter
from gateway.limits.quotas import MonthlyQuotas
from gateway.marks.resolve import MarkResolver
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import FetchLimits
from gateway.sources.capture import CaptureSource
from gateway.sources.external import ExternalFetcher
from gateway.tenancy import Tenancy, Tenant
from tests.gateway.limits.clock import HandClock
from tests.support.memory_source import MemorySource

pytestmark = pytest.mark.anyio

PAGE = "https://shop.example.com/"


class LimitsCountingStore(MemoryAccountStore):
    """The in-memory store, whose workspaces record the revision each time their ``limits()`` is worked out."""

    def __init__(self) -> None:
        super().__init__()
        self.worked_out: list[int] = []
        worked_out = self.worked_out

        class Counted(Workspace):
            def limits(self) -> PlanLimits:
                worked_out.append(self.revision)
                return super().limits()

        self._counted = Counted

    def get_workspace(self, namespace: str) -> Workspace | None:
        stored = super().get_workspace(namespace)
        if stored is None:
            return None
        return self._counted(**{f.name: getattr(stored, f.name) for f in dataclasses.fields(stored)})


async def test_the_plan_limits_are_worked_out_once_per_revision(tmp_path: Path) -> None:
    store = LimitsCountingStore()
    created = store.create_workspace(
        Workspace(
            namespace="shots",
            origin_kind="local",
            allowed_capture_domains=("shop.example.com",),
            capture_retention=30 * 86400,
            plan="enterprise",
        )
    )
    # A TTL of 0: every request reads the workspace from the store again, as after each TTL on a live gateway.
    tenancy = Tenancy(store, lambda workspace: MemorySource({"a.jpg": b"x"}), ttl=0.0)
    guard = NetGuard()
    planner = Planner(
        MarkResolver(),
        ExternalFetcher(FetchLimits(1024, 1.0, 1.0), guard),
        CaptureSource(Settings(), guard),
    )
    clock = HandClock()
    usage = MemoryUsageStore(lambda namespace: True)
    hooks = LimitHooks(NodeLimiter(tmp_path / "limits.bin", clock), MonthlyQuotas(usage.month_totals, clock))

    async def serve(count: int) -> list[int]:
        """``count`` new capture URLs and as many origin URLs, each admitted and let through the render gate;
        the retention in force of the captures' plans."""
        kept = []
        for n in range(count):
            tenant = await tenancy.get("shots")
            assert tenant is not None
            for key, query in (("", f"capture={quote(PAGE, safe='')}&w={n + 1}"), ("a.jpg", f"w={n + 1}")):
                plan = await planner.plan(tenant, key, query.encode())
                hooks.admit(tenant)
                await hooks.before_render(plan)
                if plan.kind is Kind.CAPTURE:
                    kept.append(plan.max_age)
        return kept

    def policy(tenant: Tenant) -> bytes:
        return dict(hooks.admit(tenant))[b"ratelimit-policy"]

    try:
        assert set(await serve(25)) == {30 * 86400}
        first = await tenancy.get("shots")
        assert first is not None and policy(first).startswith(b'"rate";q=10000;w=5,')
        assert store.worked_out == [1]
        # Downgraded, with more requests a second than the plan's own: one more time, and both show.
        store.update_workspace(
            dataclasses.replace(created, plan="pro", limit_overrides=PlanOverrides(requests_per_second=500))
        )
        assert set(await serve(25)) == {86400 * 7}
        assert store.worked_out == [1, 2]
        tenant = await tenancy.get("shots")
        assert tenant is not None and policy(tenant).startswith(b'"rate";q=500;w=1,')
        assert store.worked_out == [1, 2]
    finally:
        await tenancy.aclose()
