from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gateway.capture
from gateway.capture import CAPTURE_PARAMETERS, CaptureOptions, CaptureSettings, parse_capture_options, validate_target
from gateway.capture.options import split_selector_list
from gateway.errors import ValidationError
from tests.support.exports import assert_exports_public_names


def test_the_package_exports_exactly_its_public_names() -> None:
    assert_exports_public_names(gateway.capture)


def test_defaults() -> None:
    opts = parse_capture_options([])
    assert opts == CaptureOptions(vw=1280, vh=800, full=False, cdpr=Decimal(1), delay=0, dark=False)


def test_every_option() -> None:
    opts = parse_capture_options(
        [
            ("vw", "1024"),
            ("vh", "768"),
            ("full", "1"),
            ("cdpr", "1.5"),
            ("wait", "#app .ready"),
            ("delay", "250"),
            ("hide", "#cookie-banner, .ads"),
            ("redact", "[data-secret],input[type=password]"),
            ("dark", "1"),
            ("el", "main > article"),
            ("w", "600"),  # not a capture parameter: the route's business
        ]
    )
    assert opts == CaptureOptions(
        vw=1024,
        vh=768,
        full=True,
        cdpr=Decimal("1.5"),
        wait="#app .ready",
        delay=250,
        hide=("#cookie-banner", ".ads"),
        redact=("[data-secret]", "input[type=password]"),
        dark=True,
        el="main > article",
    )


def test_the_parameter_names() -> None:
    assert CAPTURE_PARAMETERS == {"vw", "vh", "full", "cdpr", "wait", "delay", "hide", "redact", "dark", "el"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("vw", "319"),
        ("vw", "3841"),
        ("vw", "12.5"),
        ("vw", "-1"),
        ("vw", ""),
        ("vh", "239"),
        ("vh", "2161"),
        ("full", "yes"),
        ("full", "2"),
        ("dark", "true"),
        ("cdpr", "0.5"),
        ("cdpr", "3.01"),
        ("cdpr", "1.234"),
        ("cdpr", "NaN"),
        ("cdpr", "1e0"),
        ("delay", "5001"),
        ("delay", "1.5"),
        ("wait", ""),
        ("wait", "   "),
        ("wait", "x" * 201),
        ("el", "a{color:red}"),
        ("hide", "a, b}"),
        ("redact", "a\nb"),
        ("redact", ",".join(f".c{i}" for i in range(21))),
        ("hide", "a,,b"),
        ("hide", "a[x=1"),
        ("redact", "a)"),
        ("el", "a:is(b"),
        ("wait", '[x="a]'),
    ],
)
def test_bad_values_name_their_parameter(name: str, value: str) -> None:
    with pytest.raises(ValidationError, match=f"^{name}:"):
        parse_capture_options([(name, value)])


def test_a_parameter_given_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="^vw:"):
        parse_capture_options([("vw", "800"), ("vw", "900")])


def test_the_delay_cap_comes_from_settings() -> None:
    assert parse_capture_options([("delay", "9000")], CaptureSettings(max_delay_ms=10_000)).delay == 9000
    with pytest.raises(ValidationError, match="^delay:"):
        parse_capture_options([("delay", "9000")], CaptureSettings(max_delay_ms=1_000))


def test_selector_lists_split_only_at_top_level_commas() -> None:
    assert split_selector_list('a, b:is(c, d), [x=","], e') == ["a", " b:is(c, d)", ' [x=","]', " e"]


def test_canonical_form_is_stable_and_distinguishes() -> None:
    a = parse_capture_options([("hide", ".a, .b"), ("cdpr", "2.0"), ("vw", "800")])
    b = parse_capture_options([("vw", "800"), ("cdpr", "2"), ("hide", ".a,.b")])
    assert a.canonical() == b.canonical()
    assert a.canonical() != parse_capture_options([("vw", "800"), ("cdpr", "2")]).canonical()
    assert parse_capture_options([("wait", "[a='b&c=d']")]).canonical().endswith("wait=%5Ba%3D%27b%26c%3Dd%27%5D")


def _balanced(text: str) -> bool:
    try:
        return len(split_selector_list(text)) == 1
    except ValueError:
        return False


# Selectors the browser parses (gateway.capture.selectors refuses the others), of parts that split and quote.
_PARTS = ["a", "#b", ".c-d", "[e]", "[f=g]", ":is(h, i)", "*", "j > k", "l_m"]
_selectors = st.lists(st.sampled_from(_PARTS), min_size=1, max_size=3).map(" ".join).filter(_balanced)


@st.composite
def _options(draw: st.DrawFn) -> CaptureOptions:
    selector = st.one_of(st.none(), _selectors.map(str.strip))
    return CaptureOptions(
        vw=draw(st.integers(320, 3840)),
        vh=draw(st.integers(240, 2160)),
        full=draw(st.booleans()),
        cdpr=draw(st.sampled_from([Decimal(1), Decimal("1.5"), Decimal("2.25"), Decimal(3)])),
        wait=draw(selector),
        delay=draw(st.integers(0, 5000)),
        hide=tuple(draw(st.lists(_selectors.map(str.strip), max_size=3))),
        redact=tuple(draw(st.lists(_selectors.map(str.strip), max_size=3))),
        dark=draw(st.booleans()),
        el=draw(selector),
    )


@given(_options())
def test_pairs_parse_back_to_the_same_options(opts: CaptureOptions) -> None:
    assert parse_capture_options(opts.pairs()) == opts


@given(st.lists(st.tuples(st.sampled_from(sorted(CAPTURE_PARAMETERS)), st.text(max_size=40)), max_size=4))
def test_parsing_raises_nothing_but_validation_errors(items: list[tuple[str, str]]) -> None:
    try:
        opts = parse_capture_options(items)
    except ValidationError:
        return
    assert parse_capture_options(opts.pairs()) == opts


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://Example.COM/pricing?a=1#top", "https://example.com/pricing?a=1#top"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com./", "https://example.com/"),
        ("https://bücher.example/ü", "https://xn--bcher-kva.example/%C3%BC"),
        ("https://faß.de/x", "https://xn--fa-hia.de/x"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
    ],
)
def test_targets_are_normalised(url: str, normal: str) -> None:
    assert validate_target(url) == normal


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "chrome://settings",
        "data:text/html,<h1>hi</h1>",
        "javascript:alert(1)",
        "ftp://example.com/",
        "about:blank",
        "https://user:pass@example.com/",
        "https://user@example.com/",
        "https://example.com\\@evil.example/",
        "https://exa mple.com/",
        "https:///path",
        "https://example.com:0/",
        "https://example.com:99999/",
        "https://exa_mple..com/",
        "//example.com/",
        "https://example.com/" + "a" * 2048,
        "https://example.com/\x00",
        # Read as 127.0.0.1 or ::1 by some parsers: one parser refuses them (gateway.policy.urls).
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]:8080/",
        "https://example.com/%c0%ae%c0%ae/x",
    ],
)
def test_unsafe_targets_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="^capture:"):
        validate_target(url)
