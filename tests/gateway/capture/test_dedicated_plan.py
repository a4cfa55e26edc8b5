"""The plan field behind dedicated rendering: which tiers have it, how an operator overrides it, its bounds."""

from __future__ import annotations

import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.plans import MAX_DEDICATED_BROWSERS, PLAN_TIERS, PlanOverrides, effective_limits, plan_limits


def test_the_top_plan_has_dedicated_browsers_and_the_others_share() -> None:
    assert [plan_limits(tier).dedicated_browsers for tier in PLAN_TIERS] == [0, 0, 0, 1]


def test_an_override_gives_or_takes_it_without_a_new_workspace_field() -> None:
    given = PlanOverrides.from_dict({"dedicated_browsers": 2})
    assert given.as_dict() == {"dedicated_browsers": 2}
    assert Workspace(namespace="acme", plan="pro", limit_overrides=given).limits().dedicated_browsers == 2
    assert effective_limits("enterprise", PlanOverrides(dedicated_browsers=0)).dedicated_browsers == 0


@pytest.mark.parametrize("value", [-1, MAX_DEDICATED_BROWSERS + 1, True, 1.5])
def test_out_of_bounds_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="dedicated_browsers"):
        PlanOverrides.from_dict({"dedicated_browsers": value})
