"""Plan limits with the operator's overrides, and the management API's IP allowlist, through the admin layer."""

from __future__ import annotations

import json

import pytest

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.plans import PLAN_TABLE, PlanOverrides
from gateway.admin import AdminContext, Invalid, NotFound, WorkspaceChanges
from gateway.admin.workspaces import load

pytestmark = pytest.mark.anyio


async def test_the_view_shows_the_effective_limits_and_billing(ctx: AdminContext) -> None:
    view = await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="pro"))
    assert view.limits["requests_per_second"] == PLAN_TABLE["pro"].requests_per_second
    assert view.limits["capture_retention_options"] == list(PLAN_TABLE["pro"].capture_retention_options)
    assert view.limit_overrides == {}
    assert view.billing == {"status": "", "plan": "pro", "current_period_end": 0.0, "stripe_customer_id": ""}
    assert view.ip_allowlist == ()
    json.dumps(view.as_dict())  # JSON-ready


async def test_overrides_replace_the_plans_values(ctx: AdminContext, store: MemoryAccountStore) -> None:
    await admin.create_workspace(ctx, "acme")
    view = await admin.set_limit_overrides(ctx, "acme", PlanOverrides(requests_per_second=75, ip_allowlisting=True))
    assert view.limits["requests_per_second"] == 75 and view.limits["ip_allowlisting"] is True
    assert view.limits["burst"] == 75  # raised to the rate: a bucket smaller than the rate refuses what it admits
    assert view.limit_overrides == {"requests_per_second": 75, "ip_allowlisting": True}
    assert (await load(ctx, "acme")).limits().requests_per_second == 75
    cleared = await admin.set_limit_overrides(ctx, "acme", PlanOverrides())
    assert cleared.limits["requests_per_second"] == PLAN_TABLE["free"].requests_per_second
    assert [row.operation for row in store.list_audit("acme").entries][:2] == ["workspace.limits"] * 2
    with pytest.raises(NotFound):
        await admin.set_limit_overrides(ctx, "ghost", PlanOverrides())


async def test_overrides_survive_a_plan_change(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.set_limit_overrides(ctx, "acme", PlanOverrides(custom_domains=7))
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="business"))
    assert view.limits["custom_domains"] == 7 and view.limits["ip_allowlisting"] is True


async def test_an_allowlist_is_stored_in_normal_form_on_a_plan_with_it(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="business"))
    view = await admin.update_workspace(
        ctx,
        "acme",
        WorkspaceChanges(ip_allowlist=(" 203.0.113.0/24", "2001:DB8::/32", "198.51.100.7", "203.0.113.0/24")),
    )
    assert view.ip_allowlist == ("203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32")
    assert (await load(ctx, "acme")).ip_allowlist == view.ip_allowlist


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "example.com", "300.1.1.1", "10.0.0.0/33", ""])
async def test_bad_networks_are_invalid(ctx: AdminContext, entry: str) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="business"))
    with pytest.raises(Invalid) as refused:
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(ip_allowlist=("192.0.2.0/24", entry)))
    assert refused.value.field == "ip_allowlist"
    if entry:
        assert entry not in refused.value.message
    assert (await load(ctx, "acme")).ip_allowlist == ()


async def test_only_plans_with_ip_allowlisting_may_set_a_list(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="pro"))
    with pytest.raises(Invalid, match="does not include IP allowlisting") as refused:
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(ip_allowlist=("192.0.2.0/24",)))
    assert refused.value.field == "ip_allowlist"
    with pytest.raises(Invalid):
        await admin.create_workspace(ctx, "free-one", WorkspaceChanges(ip_allowlist=("192.0.2.0/24",)))
    # An operator's override grants it; the same change then succeeds.
    await admin.set_limit_overrides(ctx, "acme", PlanOverrides(ip_allowlisting=True))
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(ip_allowlist=("192.0.2.0/24",)))
    assert view.ip_allowlist == ("192.0.2.0/24",)


async def test_a_list_stays_in_force_after_a_downgrade_and_can_always_be_cleared(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="business", ip_allowlist=("192.0.2.0/24",)))
    downgraded = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="free"))
    assert downgraded.ip_allowlist == ("192.0.2.0/24",)
    workspace = await load(ctx, "acme")
    assert not admin.ip_allowed(workspace, "198.51.100.1")
    assert (await admin.update_workspace(ctx, "acme", WorkspaceChanges(ip_allowlist=()))).ip_allowlist == ()


async def test_ip_allowed(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "open")
    await admin.create_workspace(
        ctx, "acme", WorkspaceChanges(plan="business", ip_allowlist=("192.0.2.0/24", "2001:db8::/32"))
    )
    open_workspace, acme = await load(ctx, "open"), await load(ctx, "acme")
    for address in ("198.51.100.1", "::1", "not an address"):
        assert admin.ip_allowed(open_workspace, address)
    for address in ("192.0.2.1", "192.0.2.255", "2001:db8::1", "[2001:db8::2]", "::ffff:192.0.2.9"):
        assert admin.ip_allowed(acme, address), address
    for address in ("192.0.3.1", "198.51.100.1", "2001:db9::1", "::ffff:198.51.100.1", "", "not an address", "::"):
        assert not admin.ip_allowed(acme, address), address


async def test_only_a_retention_the_plan_offers_may_be_set(ctx: AdminContext) -> None:
    ten_years = 10 * 365 * 86400
    await admin.create_workspace(ctx, "acme")
    with pytest.raises(Invalid) as refused:
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(capture_retention=ten_years))
    assert refused.value.field == "capture_retention" and "capture_retention" in refused.value.message
    assert (await admin.show_workspace(ctx, "acme")).revision == 1
    with pytest.raises(Invalid) as refused:
        await admin.create_workspace(ctx, "other", WorkspaceChanges(capture_retention=7 * 86400))
    assert refused.value.field == "capture_retention"
    # The plan being set in the same change is the one that counts; an override offers what the plan does not.
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro", capture_retention=7 * 86400))
    assert view.capture_retention == 7 * 86400
    await admin.set_limit_overrides(ctx, "acme", PlanOverrides(capture_retention_options=(ten_years,)))
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(capture_retention=ten_years))
    assert view.capture_retention == ten_years


async def test_a_stored_retention_the_plan_no_longer_offers_keeps_loading(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="business", capture_retention=30 * 86400))
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="free"))
    assert (view.plan, view.capture_retention) == ("free", 30 * 86400)
    assert (await admin.update_workspace(ctx, "acme", WorkspaceChanges(active=False))).capture_retention == 30 * 86400
    assert (await load(ctx, "acme")).capture_retention == 30 * 86400
