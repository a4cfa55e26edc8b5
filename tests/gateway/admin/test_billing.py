"""Stripe subscription events applied through the admin layer: plan tier, status, period end, replays, order."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

import pytest
import stripe

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.admin import AdminContext, Conflict, Invalid, WorkspaceChanges
from gateway.admin.workspaces import load

pytestmark = pytest.mark.anyio

CUSTOMER = "cus_Acme123"
_ids = itertools.count(1)


def price(lookup_key: str | None = None, tier: str | None = None) -> dict[str, Any]:
    return {
        "object": "price",
        "id": "price_1",
        "lookup_key": lookup_key,
        "metadata": {"imgate_plan": tier} if tier else {},
    }


def event(
    kind: str = "customer.subscription.updated",
    status: str = "active",
    prices: tuple[dict[str, Any], ...] = (),
    created: float = 1_800_000_000,
    customer: object = CUSTOMER,
    event_id: str | None = None,
    period_end: int | None = 1_802_000_000,
    item_period_end: int | None = None,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"object": "subscription_item", "price": p} for p in prices]
    if item_period_end is not None:
        for item in items:
            item["current_period_end"] = item_period_end
    subscription: dict[str, Any] = {
        "object": "subscription",
        "id": "sub_1",
        "customer": customer,
        "status": status,
        "items": {"object": "list", "data": items},
    }
    if period_end is not None:
        subscription["current_period_end"] = period_end
    return {
        "id": event_id or f"evt_{next(_ids)}",
        "object": "event",
        "type": kind,
        "created": created,
        "data": {"object": subscription},
    }


@pytest.fixture
async def bound(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.bind_stripe_customer(ctx, "acme", CUSTOMER)


async def test_binding_a_customer(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "other")
    view = await admin.bind_stripe_customer(ctx, "acme", CUSTOMER)
    assert view.billing["stripe_customer_id"] == CUSTOMER
    with pytest.raises(Conflict):
        await admin.bind_stripe_customer(ctx, "other", CUSTOMER)
    with pytest.raises(Invalid) as refused:
        await admin.bind_stripe_customer(ctx, "other", "customer-42")
    assert refused.value.field == "customer_id"
    assert (await admin.bind_stripe_customer(ctx, "acme", "")).billing["stripe_customer_id"] == ""
    assert (await admin.bind_stripe_customer(ctx, "other", CUSTOMER)).billing["stripe_customer_id"] == CUSTOMER


async def test_a_subscription_sets_tier_status_and_period_end(ctx: AdminContext, bound: None) -> None:
    outcome = await admin.apply_stripe_event(ctx, event("customer.subscription.created", prices=(price("pro"),)))
    assert outcome == "applied"
    workspace = await load(ctx, "acme")
    assert workspace.plan == "pro"
    assert (workspace.billing.subscription_status, workspace.billing.current_period_end) == ("active", 1_802_000_000)
    assert workspace.billing.event_at == 1_800_000_000


@pytest.mark.parametrize(
    ("prices", "tier"),
    [
        ((price("pro"),), "pro"),
        ((price("business_yearly"),), "business"),
        ((price("whatever", tier="enterprise"),), "enterprise"),
        ((price("pro_monthly", tier="business"),), "business"),  # metadata wins over the lookup key
        ((price("pro"), price("business_monthly")), "business"),  # the highest tier of the items
        ((price("progress"),), "free"),  # "progress" is no tier: the plan stays as it was
        ((price(None),), "free"),
        ((), "free"),
    ],
)
async def test_the_tier_comes_from_the_prices(ctx: AdminContext, bound: None, prices: Any, tier: str) -> None:
    assert await admin.apply_stripe_event(ctx, event(prices=prices)) == "applied"
    assert (await load(ctx, "acme")).plan == tier


async def test_the_period_end_is_read_from_the_items_on_newer_api_versions(ctx: AdminContext, bound: None) -> None:
    sent = event(prices=(price("pro"),), period_end=None, item_period_end=1_805_000_000)
    assert await admin.apply_stripe_event(ctx, sent) == "applied"
    assert (await load(ctx, "acme")).billing.current_period_end == 1_805_000_000


@pytest.mark.parametrize(
    ("status", "tier"),
    [
        ("trialing", "business"),
        ("past_due", "pro"),  # grace while Stripe retries: unchanged
        ("incomplete", "pro"),  # first payment pending: unchanged
        ("canceled", "free"),
        ("unpaid", "free"),
        ("incomplete_expired", "free"),
        ("paused", "free"),
    ],
)
async def test_what_a_status_grants(ctx: AdminContext, bound: None, status: str, tier: str) -> None:
    await admin.apply_stripe_event(ctx, event(prices=(price("pro"),), created=1_700_000_000))
    assert await admin.apply_stripe_event(ctx, event(status=status, prices=(price("business"),))) == "applied"
    workspace = await load(ctx, "acme")
    assert (workspace.plan, workspace.billing.subscription_status) == (tier, status)


async def test_a_deleted_subscription_is_the_free_plan(ctx: AdminContext, bound: None) -> None:
    await admin.apply_stripe_event(ctx, event(prices=(price("business"),), created=1_700_000_000))
    deleted = event("customer.subscription.deleted", status="active", prices=(price("business"),))
    assert await admin.apply_stripe_event(ctx, deleted) == "applied"
    workspace = await load(ctx, "acme")
    assert (workspace.plan, workspace.billing.subscription_status) == ("free", "canceled")


async def test_a_replayed_event_is_not_applied_twice(ctx: AdminContext, bound: None) -> None:
    first = event(prices=(price("pro"),), event_id="evt_Replayed1")
    assert await admin.apply_stripe_event(ctx, first) == "applied"
    await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="free"))
    assert await admin.apply_stripe_event(ctx, first) == "replayed"
    assert (await load(ctx, "acme")).plan == "free"


async def test_an_older_event_never_undoes_a_newer_one(ctx: AdminContext, bound: None) -> None:
    assert await admin.apply_stripe_event(ctx, event(prices=(price("business"),), created=1_800_000_100)) == "applied"
    late = event(status="canceled", created=1_800_000_000)
    assert await admin.apply_stripe_event(ctx, late) == "ignored"
    assert (await load(ctx, "acme")).plan == "business"


async def test_other_events_and_customers_are_ignored(
    ctx: AdminContext, store: MemoryAccountStore, bound: None
) -> None:
    assert await admin.apply_stripe_event(ctx, event("invoice.paid", prices=(price("pro"),))) == "ignored"
    assert await admin.apply_stripe_event(ctx, event(customer="cus_Stranger9", prices=(price("pro"),))) == "ignored"
    assert (await load(ctx, "acme")).plan == "free"
    expanded = event(customer={"id": CUSTOMER, "object": "customer"}, prices=(price("pro"),))
    assert await admin.apply_stripe_event(ctx, expanded) == "applied"


@pytest.mark.parametrize(
    "broken",
    [
        {"id": ""},
        {"created": "yesterday"},
        {"created": True},
        {"data": {}},
        {"data": {"object": "sub_1"}},
    ],
)
async def test_an_event_lacking_what_it_needs_is_invalid(
    ctx: AdminContext, bound: None, broken: dict[str, Any]
) -> None:
    with pytest.raises(Invalid):
        await admin.apply_stripe_event(ctx, {**event(prices=(price("pro"),)), **broken})
    with pytest.raises(Invalid):
        await admin.apply_stripe_event(ctx, ["not", "a", "mapping"])  # type: ignore[arg-type]


async def test_a_failed_application_lets_the_retry_through(ctx: AdminContext, bound: None) -> None:
    bad = event(status="refunded-ish", prices=(price("pro"),), event_id="evt_Retry1")
    with pytest.raises(Invalid):
        await admin.apply_stripe_event(ctx, bad)
    fixed = event(prices=(price("pro"),), event_id="evt_Retry1")
    assert await admin.apply_stripe_event(ctx, fixed) == "applied"


async def test_applied_events_are_audited_under_their_workspace(
    ctx: AdminContext, store: MemoryAccountStore, bound: None
) -> None:
    stripe_ctx = ctx.acting_as("stripe")
    await admin.apply_stripe_event(stripe_ctx, event(prices=(price("pro"),)))
    row = store.list_audit("acme").entries[0]
    assert (row.actor, row.operation, row.status) == ("stripe", "billing.stripe_event", 200)


async def test_an_event_verified_by_the_stripe_library_applies(ctx: AdminContext, bound: None) -> None:
    """What the webhook endpoint hands over: ``stripe.Webhook.construct_event``'s ``Event``, not a dict."""
    secret = "whsec_test_local_only"
    payload = json.dumps(event("customer.subscription.created", prices=(price("business_monthly"),)))
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    verified = stripe.Webhook.construct_event(payload, f"t={timestamp},v1={signature}", secret, tolerance=300)
    assert await admin.apply_stripe_event(ctx, verified) == "applied"
    assert (await load(ctx, "acme")).plan == "business"
