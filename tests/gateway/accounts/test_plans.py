"""The plan table, operator overrides, and the limits they add up to."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.accounts import models
from gateway.accounts.models import Workspace
from gateway.accounts.plans import (
    PLAN_TABLE,
    PLAN_TIERS,
    PlanLimits,
    PlanOverrides,
    effective_limits,
    plan_limits,
)


def test_the_tiers_in_upgrade_order_and_the_workspace_plans_come_from_the_table() -> None:
    assert PLAN_TIERS == ("free", "pro", "business", "enterprise")
    assert models.PLANS == PLAN_TIERS
    assert Workspace(namespace="acme", plan="enterprise").plan == "enterprise"
    with pytest.raises(ValueError, match="free, pro, business, enterprise"):
        Workspace(namespace="acme", plan="platinum")


def test_every_tier_is_at_least_the_one_below() -> None:
    numbers = [f.name for f in dataclasses.fields(PlanLimits) if f.type == "int"]
    assert "requests_per_second" in numbers and "bytes_out_per_month" in numbers
    for lower, higher in zip(PLAN_TIERS, PLAN_TIERS[1:], strict=False):
        low, high = PLAN_TABLE[lower], PLAN_TABLE[higher]
        for name in numbers:
            assert getattr(high, name) >= getattr(low, name), (higher, name)
        assert set(low.capture_retention_options) <= set(high.capture_retention_options)
        assert high.ip_allowlisting >= low.ip_allowlisting and high.signed_webhooks >= low.signed_webhooks


def test_every_tier_offers_the_default_capture_retention_and_no_keeping() -> None:
    default = Workspace(namespace="acme").capture_retention
    for tier in PLAN_TIERS:
        assert plan_limits(tier).allows_retention(default) and plan_limits(tier).allows_retention(0)
    assert not plan_limits("free").allows_retention(7 * 86400)


def test_features_by_tier() -> None:
    assert [plan_limits(t).ip_allowlisting for t in PLAN_TIERS] == [False, False, True, True]
    assert [plan_limits(t).signed_webhooks for t in PLAN_TIERS] == [False, True, True, True]
    assert plan_limits("free").custom_domains == 0


def test_an_unknown_tier() -> None:
    with pytest.raises(ValueError, match="plan must be one of"):
        plan_limits("platinum")
    with pytest.raises(ValueError, match="plan must be one of"):
        effective_limits("platinum", PlanOverrides())


def test_no_overrides_is_the_plan() -> None:
    assert effective_limits("pro") == PLAN_TABLE["pro"]
    assert effective_limits("pro", PlanOverrides()) == PLAN_TABLE["pro"]
    assert Workspace(namespace="acme", plan="business").limits() == PLAN_TABLE["business"]


def test_overrides_replace_only_what_they_set() -> None:
    overrides = PlanOverrides(renders_per_month=0, ip_allowlisting=True, capture_retention_options=(600, 0, 600))
    limits = effective_limits("free", overrides)
    assert limits == dataclasses.replace(
        PLAN_TABLE["free"], renders_per_month=0, ip_allowlisting=True, capture_retention_options=(0, 600)
    )
    assert Workspace(namespace="acme", limit_overrides=overrides).limits() == limits


def test_a_rate_override_above_the_plans_burst_raises_the_burst() -> None:
    # Stored for a pro workspace (burst 500), then the workspace moved to free (burst 50).
    assert effective_limits("free", PlanOverrides(requests_per_second=80)).burst == 80
    assert effective_limits("free", PlanOverrides(requests_per_second=80, burst=200)).burst == 200
    assert effective_limits("pro", PlanOverrides(burst=1)).burst == 100


def test_a_plan_with_a_burst_below_its_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        dataclasses.replace(PLAN_TABLE["free"], burst=5)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"requests_per_second": 0}, "requests_per_second"),
        ({"burst": -1}, "burst"),
        ({"renders_per_month": -1}, "renders_per_month"),
        ({"captures_per_month": 1.5}, "captures_per_month"),
        ({"bytes_out_per_month": True}, "bytes_out_per_month"),
        ({"custom_domains": "3"}, "custom_domains"),
        ({"custom_domains": 2**63}, "custom_domains"),
        ({"capture_retention_options": ()}, "capture_retention_options"),
        ({"capture_retention_options": (-1,)}, "capture_retention_options"),
        ({"ip_allowlisting": 1}, "ip_allowlisting"),
        ({"signed_webhooks": "yes"}, "signed_webhooks"),
    ],
)
def test_bad_override_values_are_refused_by_name(values: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        PlanOverrides(**values)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=name):
        PlanOverrides.from_dict(values)


def test_overrides_round_trip_as_json_data() -> None:
    overrides = PlanOverrides(burst=900, capture_retention_options=(86400, 0), signed_webhooks=False)
    assert overrides.as_dict() == {"burst": 900, "capture_retention_options": [0, 86400], "signed_webhooks": False}
    assert PlanOverrides.from_dict(overrides.as_dict()) == overrides
    assert PlanOverrides.from_dict({}) == PlanOverrides() and PlanOverrides().empty
    with pytest.raises(ValueError, match="unknown plan limit 'rps'"):
        PlanOverrides.from_dict({"rps": 5})


_override_values = st.fixed_dictionaries(
    {},
    optional={
        "requests_per_second": st.integers(1, 10**6),
        "burst": st.integers(1, 10**6),
        "renders_per_month": st.integers(0, 10**9),
        "captures_per_month": st.integers(0, 10**9),
        "bytes_out_per_month": st.integers(0, 2**50),
        "custom_domains": st.integers(0, 1000),
        "capture_retention_options": st.lists(st.integers(0, 10**8), min_size=1, max_size=5).map(tuple),
        "ip_allowlisting": st.booleans(),
        "signed_webhooks": st.booleans(),
    },
)


@given(tier=st.sampled_from(PLAN_TIERS), values=_override_values)
def test_any_valid_override_gives_usable_limits(tier: str, values: dict[str, object]) -> None:
    overrides = PlanOverrides(**values)  # type: ignore[arg-type]
    limits = effective_limits(tier, overrides)
    assert limits.burst >= limits.requests_per_second >= 1
    for name, value in overrides.as_dict().items():
        got = getattr(limits, name)
        if name == "burst":
            assert got == max(value, limits.requests_per_second)
        elif name == "capture_retention_options":
            assert list(got) == sorted(set(value))
        else:
            assert got == value
    assert PlanOverrides.from_dict(overrides.as_dict()) == overrides
