"""One URL parser: ``?src=`` and ``?capture=`` read every URL alike, including the security-relevant ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.capture import validate_target
from gateway.errors import ValidationError
from gateway.policy import InvalidSourceURL, parse_source_url
from gateway.policy.urls import is_unsafe_segment

INVALID = "invalid"


def as_src(raw: str) -> str:
    try:
        return parse_source_url(raw).url
    except InvalidSourceURL:
        return INVALID


def as_capture(raw: str) -> str:
    try:
        return validate_target(raw)
    except ValidationError as exc:
        assert exc.message.startswith("capture: ")
        return INVALID


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        # IDNA 2008 / UTS #46 non-transitional, as browsers: ß stays ß (punycode), it is not "ss".
        ("https://faß.de/x", "https://xn--fa-hia.de/x"),
        ("https://FASS.de/x", "https://fass.de/x"),
        ("https://bücher.example/ü", "https://xn--bcher-kva.example/%C3%BC"),
        ("https://Example.COM./pricing?a=1", "https://example.com/pricing?a=1"),
        ("http://example.com:80", "http://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        # Numeric hosts other than a canonical dotted quad are refused, never read as an address.
        ("http://2130706433/", INVALID),
        ("http://0x7f000001/", INVALID),
        ("http://0x7f.1/", INVALID),
        ("http://0177.0.0.1/", INVALID),
        ("http://127.1/", INVALID),
        ("http://[::1]:8080/", INVALID),
        ("http://[::ffff:127.0.0.1]/", INVALID),
        # Percent-escapes in a path must be UTF-8: overlong forms of '.' and '/' are refused.
        ("https://cdn.example.com/images/%c0%ae%c0%ae/private/x.jpg", INVALID),
        ("https://cdn.example.com/images/%c0%af..%c0%afprivate/x.jpg", INVALID),
        ("https://cdn.example.com/images/%25c0%25ae%25c0%25ae/private/x.jpg", INVALID),
        ("https://cdn.example.com/caf%E9.jpg", INVALID),
        ("https://cdn.example.com/caf%C3%A9.jpg", "https://cdn.example.com/caf%C3%A9.jpg"),
        # Credentials, backslashes, other schemes.
        ("https://user:pass@example.com/", INVALID),
        ("https://example.com\\@evil.example/", INVALID),
        ("ftp://example.com/", INVALID),
        ("javascript:alert(1)", INVALID),
    ],
)
def test_src_and_capture_read_every_url_alike(raw: str, normal: str) -> None:
    assert (as_src(raw), as_capture(raw)) == (normal, normal)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("https://example.com/app#/route?tab=1", "https://example.com/app#/route?tab=1"),
        ("https://example.com/#/items[0]", "https://example.com/#/items[0]"),
        ('https://example.com/#a"b<c', "https://example.com/#a%22b%3Cc"),
        ("https://example.com/#ü", "https://example.com/#%C3%BC"),
        ("https://example.com/x#", "https://example.com/x"),
        ("https://example.com/#a#b", INVALID),
        ("https://example.com/#a b", INVALID),
    ],
)
def test_only_a_capture_keeps_its_fragment(raw: str, normal: str) -> None:
    assert as_capture(raw) == normal
    assert as_src(raw) == INVALID
    if normal != INVALID:
        assert parse_source_url(normal, allow_fragment=True).url == normal


def test_a_capture_url_has_its_own_length_cap() -> None:
    assert as_capture("https://example.com/" + "a" * 2048) == INVALID
    assert as_src("https://example.com/" + "a" * 2048) != INVALID


URLISH = st.text(alphabet="htps:/\\@%.?#[]0x7fFeE2c5a;~é\u3000 \t", max_size=30)


@given(st.one_of(URLISH.map(lambda s: "https://a.example" + s), URLISH.map(lambda s: "http://" + s)))
def test_a_parsed_capture_url_is_safe_and_parses_to_itself(raw: str) -> None:
    try:
        url = parse_source_url(raw, allow_fragment=True)
    except InvalidSourceURL:
        return
    text = url.url
    assert text.isascii() and "\\" not in text and text.count("#") <= 1 and not any(c.isspace() for c in text)
    assert parse_source_url(text, allow_fragment=True) == url
    assert as_capture(text) == text


@pytest.mark.parametrize(
    "segment",
    ["..", ".", "..;", "..;x", ".;", "..\\", "a\\b", "%2e%2e", "%2E.", "%252e%252e", "%25252e%25252e", "a%2fb",
     "a%5cb", "%c0%ae%c0%ae", "%c0%af", "a\x00b", "%00"],
)  # fmt: skip
def test_segments_that_could_leave_a_prefix(segment: str) -> None:
    assert is_unsafe_segment(segment)


@pytest.mark.parametrize(
    "segment", ["a.jpg", "...", "..a", "a..", "a;b.jpg", "50%off.jpg", "100%25.jpg", "café.jpg", "caf%C3%A9", ""]
)
def test_ordinary_segments_are_safe(segment: str) -> None:
    assert not is_unsafe_segment(segment)
