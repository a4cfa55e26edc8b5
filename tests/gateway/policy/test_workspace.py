"""WorkspacePolicy: the three lists compiled together, as the tenancy cache holds them."""

from __future__ import annotations

import pytest

import gateway.policy
from gateway.policy import InvalidPattern, WorkspacePolicy, parse_source_url
from tests.support.exports import assert_exports_public_names

PERMISSIVE = WorkspacePolicy.compile(["*"], ["*"], [])


def test_the_permissive_default_lets_urls_work_at_once() -> None:
    assert PERMISSIVE.any_origin
    assert PERMISSIVE.origin_allowed("https://anyone.example") and PERMISSIVE.origin_allowed("null")
    assert PERMISSIVE.source_allowed(parse_source_url("https://images.example.org/a.jpg"))
    assert not PERMISSIVE.capture_allowed(parse_source_url("https://images.example.org/"))


def test_a_tightened_workspace() -> None:
    policy = WorkspacePolicy.compile(
        ["https://shop.example.com", "https://*.staging.example.com"],
        ["cdn.example.com/images/"],
        ["*.example.com", "status.example.org"],
    )
    assert not policy.any_origin
    assert policy.origin_allowed("https://shop.example.com")
    assert policy.origin_allowed("https://pr-12.staging.example.com")
    assert not policy.origin_allowed("https://evil.example.net")
    assert not policy.origin_allowed("null")
    assert policy.source_allowed(parse_source_url("https://cdn.example.com/images/a.jpg"))
    assert not policy.source_allowed(parse_source_url("https://cdn.example.com/private/a.jpg"))
    assert policy.capture_allowed(parse_source_url("https://www.example.com/pricing"))
    assert policy.capture_allowed(parse_source_url("http://status.example.org/"))
    assert not policy.capture_allowed(parse_source_url("https://example.com/"))
    assert not policy.capture_allowed(parse_source_url("https://www.example.com:8443/"))
    assert not policy.capture_allowed(parse_source_url("https://sub.status.example.org/"))


@pytest.mark.parametrize(
    ("lists", "named"),
    [
        ((["null"], [], []), "allowed origins"),
        ((["*"], ["cdn.example.com/../x"], []), "allowed sources"),
        ((["*"], ["*"], ["*.com"]), "allowed capture domains"),
    ],
)
def test_a_bad_pattern_names_its_list_and_itself(lists: tuple[list[str], ...], named: str) -> None:
    with pytest.raises(InvalidPattern) as caught:
        WorkspacePolicy.compile(*lists)
    assert named in str(caught.value)
    assert caught.value.pattern in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_compiled_policy_is_hashable_and_equal_for_equal_settings() -> None:
    one = WorkspacePolicy.compile(["https://A.example.com", "*"], ["cdn.example.com"], ["*.example.com"])
    two = WorkspacePolicy.compile(["*", "https://a.example.com:443"], ["CDN.example.com."], ["*.EXAMPLE.com"])
    assert one == two and hash(one) == hash(two)
    assert one != PERMISSIVE


def test_a_string_is_refused_where_a_list_belongs() -> None:
    with pytest.raises(TypeError):
        WorkspacePolicy.compile("*", ["*"], [])


def test_the_package_exports_exactly_its_public_names() -> None:
    assert_exports_public_names(gateway.policy)
