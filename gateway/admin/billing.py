"""Billing: bind a workspace to its Stripe customer, and apply Stripe's subscription events to it.

The management API verifies a webhook's ``Stripe-Signature`` (``stripe.Webhook.construct_event``) and hands
the verified event to ``apply_stripe_event``, which answers what it did:

- ``applied``: a ``customer.subscription.created``, ``.updated`` or ``.deleted`` event about a bound customer
  changed the workspace's plan tier, subscription status and current period end;
- ``replayed``: its event id was applied before (``AccountStore.record_webhook_event``);
- ``ignored``: another event type, a customer bound to no workspace, or an event older than the last one
  applied (Stripe delivers out of order; ``Billing.event_at`` holds the newest applied event's time).

The plan tier comes from the subscription's prices. A price names its tier with metadata
``imgate_plan = "pro"`` (set on the Price in Stripe; it survives renaming lookup keys), or failing that with its
``lookup_key``: a tier (``pro``) or a tier and an underscore (``pro_monthly``, ``business_yearly``). With several
items the highest tier wins. What the workspace gets follows the status:

- ``active``, ``trialing``: the tier of the prices (unchanged when no price names a tier);
- ``past_due``: unchanged, a grace period while Stripe retries the payment;
- ``incomplete``: unchanged, the first payment has not gone through yet;
- ``canceled``, ``unpaid``, ``incomplete_expired``, ``paused`` and every ``.deleted`` event: ``free``.

Nothing about a card is read or stored: only the customer id, the status, the period end and the event time.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from typing import Any

from gateway.accounts.billing import SUBSCRIPTION_STATUSES
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PLAN_TIERS
from gateway.accounts.store import StripeCustomerTaken
from gateway.admin.audit import audit_call, audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Invalid
from gateway.admin.roles import require
from gateway.admin.workspaces import WorkspaceView, load, save

log = logging.getLogger("imgate.billing")

SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
PLAN_METADATA = "imgate_plan"
FREE = PLAN_TIERS[0]
_PAID_STATUSES = ("active", "trialing")
_KEEP_STATUSES = ("past_due", "incomplete")
# Event ids older than this are forgotten: a delivery this old fails its signature's tolerance anyway.
_EVENT_IDS_KEPT = 7 * 86400.0
_ATTEMPTS = 3


@audited("billing.bind_customer")
async def bind_stripe_customer(ctx: AdminContext, namespace: str, customer_id: str) -> WorkspaceView:
    """Say which Stripe customer pays for the workspace (``""`` unbinds). A customer pays for one workspace."""
    require(ctx, namespace, "billing")
    current = await load(ctx, namespace)
    try:
        billing = dataclasses.replace(current.billing, stripe_customer_id=customer_id.strip())
    except ValueError as exc:
        raise Invalid(f"customer_id: {exc}", "customer_id") from None
    try:
        return WorkspaceView.of(await save(ctx, dataclasses.replace(current, billing=billing)))
    except StripeCustomerTaken:
        raise Conflict("that Stripe customer is bound to another workspace already") from None


async def apply_stripe_event(ctx: AdminContext, event: Mapping[str, object]) -> str:
    """Apply one verified Stripe event: ``"applied"``, ``"replayed"`` or ``"ignored"`` (see the module).

    ``Invalid`` for an event of a handled type that lacks what it needs (id, created, the subscription).
    """
    plain = _plain(event)
    kind = plain.get("type")
    if kind not in SUBSCRIPTION_EVENTS:
        return "ignored"
    async with audit_call(ctx, "", "billing.stripe_event") as call:
        event_id, created, subscription = _parts(plain)
        customer = _customer(subscription)
        workspace = await ctx.call(ctx.store.find_workspace_by_stripe_customer, customer) if customer else None
        if workspace is None:
            return "ignored"
        call.namespace = workspace.namespace
        try:
            first_time = await ctx.call(ctx.store.record_webhook_event, event_id)
        except ValueError:
            raise Invalid("event: its id is not a Stripe event id", "id") from None
        if not first_time:
            return "replayed"
        try:
            outcome = await _apply(ctx, workspace, kind == SUBSCRIPTION_EVENTS[2], created, subscription)
        except BaseException:
            # Not applied: let Stripe's retry of this delivery be accepted.
            await ctx.call(ctx.store.forget_webhook_event, event_id)
            raise
        await ctx.call(ctx.store.prune_webhook_events, time.time() - _EVENT_IDS_KEPT)
        return outcome


async def _apply(
    ctx: AdminContext, workspace: Workspace, deleted: bool, created: float, subscription: Mapping[str, Any]
) -> str:
    for attempt in range(_ATTEMPTS):
        if created < workspace.billing.event_at:
            return "ignored"
        status = "canceled" if deleted else str(subscription.get("status", ""))
        if status not in SUBSCRIPTION_STATUSES or not status:
            raise Invalid("event: the subscription's status is not one Stripe documents", "status")
        plan = _plan_for(workspace.plan, status, deleted, subscription)
        billing = dataclasses.replace(
            workspace.billing,
            subscription_status=status,
            current_period_end=_period_end(subscription, workspace.billing.current_period_end),
            event_at=created,
        )
        try:
            await save(ctx, dataclasses.replace(workspace, plan=plan, billing=billing))
            return "applied"
        except Conflict:
            if attempt + 1 == _ATTEMPTS:
                raise
            workspace = await load(ctx, workspace.namespace)
    raise AssertionError("unreachable")


def _plan_for(current: str, status: str, deleted: bool, subscription: Mapping[str, Any]) -> str:
    if deleted or status not in (*_PAID_STATUSES, *_KEEP_STATUSES):
        return FREE
    if status in _KEEP_STATUSES:
        return current
    tier = subscribed_tier(subscription)
    if tier is None:
        log.warning("a Stripe subscription names no imgate plan: give its price metadata %s", PLAN_METADATA)
        return current
    return tier


def subscribed_tier(subscription: Mapping[str, Any]) -> str | None:
    """The highest tier the subscription's prices name, or ``None`` when none names one."""
    named = [tier for price in _prices(subscription) if (tier := _tier_of(price)) is not None]
    return max(named, key=PLAN_TIERS.index) if named else None


def _tier_of(price: Mapping[str, Any]) -> str | None:
    metadata = price.get("metadata")
    if isinstance(metadata, Mapping) and metadata.get(PLAN_METADATA) in PLAN_TIERS:
        return str(metadata[PLAN_METADATA])
    lookup_key = price.get("lookup_key")
    if isinstance(lookup_key, str):
        for tier in PLAN_TIERS:
            if lookup_key == tier or lookup_key.startswith(tier + "_"):
                return tier
    return None


def _items(subscription: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def _prices(subscription: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item["price"] for item in _items(subscription) if isinstance(item.get("price"), Mapping)]


def _period_end(subscription: Mapping[str, Any], current: float) -> float:
    """Stripe moved ``current_period_end`` from the subscription onto its items (API version 2025-03-31)."""
    ends = [subscription.get("current_period_end"), *(item.get("current_period_end") for item in _items(subscription))]
    numbers = [float(end) for end in ends if isinstance(end, int | float) and not isinstance(end, bool) and end >= 0]
    return max(numbers) if numbers else current


def _customer(subscription: Mapping[str, Any]) -> str:
    customer = subscription.get("customer")
    if isinstance(customer, Mapping):  # expanded
        customer = customer.get("id")
    return customer if isinstance(customer, str) else ""


def _parts(event: Mapping[str, Any]) -> tuple[str, float, Mapping[str, Any]]:
    event_id, created, data = event.get("id"), event.get("created"), event.get("data")
    subscription = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(event_id, str) or not event_id:
        raise Invalid("event: no id", "id")
    if isinstance(created, bool) or not isinstance(created, int | float) or created < 0:
        raise Invalid("event: no created time", "created")
    if not isinstance(subscription, Mapping):
        raise Invalid("event: no subscription in data.object", "data")
    return event_id, float(created), subscription


def _plain(event: object) -> Mapping[str, Any]:
    """A mapping of plain values: the ``stripe`` library's ``Event`` is no ``Mapping`` but has ``to_dict``."""
    to_dict = getattr(event, "to_dict", None)
    if callable(to_dict):
        event = to_dict()
    if not isinstance(event, Mapping):
        raise Invalid("event: not a JSON object", "event")
    return event
