"""Account records validate themselves."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.accounts.billing import Billing
from gateway.accounts.models import PurgeMarker, Workspace, retention_allowed
from gateway.accounts.plans import PlanOverrides, plan_limits


@pytest.mark.parametrize("bad", ["a", "-acme", "Acme", "acme_1", "a" * 64, "ac me", "_"])
def test_namespace_rules(bad: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        Workspace(namespace=bad)


def test_purge_markers_cover_prefixes() -> None:
    ws = Workspace(namespace="acme", purges=(PurgeMarker("a/", 10.0), PurgeMarker("", 5.0), PurgeMarker("b", 20.0)))
    assert ws.purged_after("a/x.jpg") == 10.0
    assert ws.purged_after("c.jpg") == 5.0
    assert ws.purged_after("b/y.jpg") == 20.0


def test_a_workspace_counts_as_purged_at_its_creation() -> None:
    """A namespace deleted and created again must never be served the old workspace's cached outputs."""
    ws = Workspace(namespace="acme", created_at=100.0, purges=(PurgeMarker("a/", 50.0), PurgeMarker("b/", 150.0)))
    assert ws.purged_after("a/x.jpg") == 100.0
    assert ws.purged_after("b/x.jpg") == 150.0
    assert ws.purged_after("c.jpg") == 100.0


def test_the_ip_allowlist_is_kept_in_normal_form() -> None:
    ws = Workspace(namespace="acme", ip_allowlist=("203.0.113.7", "2001:DB8::/32", "203.0.113.7/32"))
    assert ws.ip_allowlist == ("203.0.113.7/32", "2001:db8::/32")
    with pytest.raises(ValueError, match="allowlist"):
        Workspace(namespace="acme", ip_allowlist=("10.0.0.1/8",))


def test_billing_holds_subscription_state_only() -> None:
    billing = Billing("cus_NffrFeUfNV2Hib", "active", current_period_end=1_800_000_000.0, event_at=1.0)
    assert Workspace(namespace="acme", billing=billing).billing == billing
    assert Workspace(namespace="acme").billing == Billing()  # no customer, no subscription
    assert {f.name for f in dataclasses.fields(Billing)} == {
        "stripe_customer_id",
        "subscription_status",
        "current_period_end",
        "event_at",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stripe_customer_id": "acme"}, "customer id"),
        ({"stripe_customer_id": "cus_1; DROP"}, "customer id"),
        ({"subscription_status": "paid"}, "subscription status"),
        ({"current_period_end": -1.0}, "current_period_end"),
        ({"event_at": float("nan")}, "event_at"),
    ],
)
def test_billing_refuses_what_stripe_would_never_send(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Billing(**changes)  # type: ignore[arg-type]


def test_the_retention_in_force_is_the_chosen_one_as_far_as_the_plan_allows() -> None:
    chosen = Workspace(namespace="acme", plan="enterprise", capture_retention=30 * 86400)
    assert chosen.retention_in_force() == 30 * 86400
    # Downgraded: capped by the plan's longest option, the choice kept for an upgrade.
    downgraded = dataclasses.replace(chosen, plan="free")
    assert downgraded.retention_in_force() == 86400 and downgraded.capture_retention == 30 * 86400
    # The operator's overrides count: they are part of the workspace's limits.
    extended = dataclasses.replace(downgraded, limit_overrides=PlanOverrides(capture_retention_options=(0, 7 * 86400)))
    assert extended.retention_in_force() == 7 * 86400


def test_retention_allowed_caps_a_retention_by_the_limits_it_is_given() -> None:
    assert retention_allowed(30 * 86400, plan_limits("free")) == 86400
    assert retention_allowed(3600, plan_limits("free")) == 3600
    assert retention_allowed(0, plan_limits("enterprise")) == 0
    workspace = Workspace(namespace="acme", plan="pro", capture_retention=30 * 86400)
    assert retention_allowed(workspace.capture_retention, workspace.limits()) == workspace.retention_in_force()
