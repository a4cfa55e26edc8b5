"""Capture domains switched on and off: which new captures may be taken, and how a pattern is named."""

from __future__ import annotations

import pytest

from gateway.policy import InvalidPattern, WorkspacePolicy, capture_enabled, find_capture_domain, parse_source_url

ALLOWED = ("www.example.com", "*.example.org", "https://status.example.org:8443")


@pytest.mark.parametrize(
    ("disabled", "url", "enabled"),
    [
        ((), "https://www.example.com/", True),
        (("www.example.com",), "https://www.example.com/pricing", False),
        (("www.example.com",), "https://a.example.org/", True),
        (("*.example.org",), "https://a.example.org/", False),
        # Matched by the disabled wildcard and by its own enabled pattern: the enabled one allows it.
        (("*.example.org",), "https://status.example.org:8443/", True),
        (("*.example.org", "https://status.example.org:8443"), "https://status.example.org:8443/", False),
        # Another spelling of the same pattern is the same domain.
        (("WWW.Example.COM.",), "https://www.example.com/", False),
    ],
)
def test_capture_enabled(disabled: tuple[str, ...], url: str, enabled: bool) -> None:
    parsed = parse_source_url(url)
    assert WorkspacePolicy.compile([], [], ALLOWED).capture_allowed(parsed)
    assert capture_enabled(ALLOWED, disabled, parsed) is enabled


def test_a_stored_list_that_does_not_compile_enables_nothing() -> None:
    url = parse_source_url("https://www.example.com/")
    assert not capture_enabled(("www.example.com", "exa mple.com"), ("exa mple.com",), url)


def test_find_capture_domain_answers_the_stored_spelling() -> None:
    assert find_capture_domain(ALLOWED, "*.EXAMPLE.org") == "*.example.org"
    assert find_capture_domain(ALLOWED, "https://Status.example.org:8443/") == "https://status.example.org:8443"
    assert find_capture_domain(ALLOWED, "status.example.org") is None  # another port and scheme: another pattern
    assert find_capture_domain(("exa mple.com", "www.example.com"), "www.example.com") == "www.example.com"
    with pytest.raises(InvalidPattern):
        find_capture_domain(ALLOWED, "*.com")
