"""CORS origin patterns against a reference model of (scheme, host labels, effective port)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.policy import InvalidOrigin, InvalidPattern, Origin, OriginAllowlist, parse_origin

DEFAULT = {"http": 80, "https": 443}
LABELS = ["a", "b", "shop", "example", "com", "xn--bcher-kva"]


def reference_match(pattern: tuple[str, str, list[str], int], origin: tuple[str, list[str], int]) -> bool:
    kind, p_scheme, p_labels, p_port = pattern
    scheme, labels, port = origin
    if kind == "any":
        return True
    if (scheme, port) != (p_scheme, p_port):
        return False
    if kind == "exact":
        return labels == p_labels
    return len(labels) > len(p_labels) and labels[-len(p_labels) :] == p_labels


schemes = st.sampled_from(["http", "https"])
ports = st.sampled_from([None, 80, 443, 8080])
base_labels = st.lists(st.sampled_from(LABELS), min_size=2, max_size=3)


def render(scheme: str, host: str, port: int | None, upper: bool) -> str:
    text = f"{scheme}://{host}" + ("" if port is None else f":{port}")
    return text.upper() if upper else text


@given(
    data=st.data(),
    kind=st.sampled_from(["any", "exact", "wildcard"]),
    p_scheme=schemes,
    p_labels=base_labels,
    p_port=ports,
    scheme=schemes,
    port=ports,
)
def test_origin_patterns_agree_with_the_model(
    data: st.DataObject,
    kind: str,
    p_scheme: str,
    p_labels: list[str],
    p_port: int | None,
    scheme: str,
    port: int | None,
) -> None:
    labels = data.draw(
        st.one_of(
            st.just(p_labels),
            st.lists(st.sampled_from(LABELS), min_size=1, max_size=2).map(lambda prefix: prefix + p_labels),
            st.lists(st.sampled_from(LABELS), min_size=1, max_size=4),
        )
    )
    host = ".".join(labels)
    pattern_host = ".".join(p_labels) if kind == "exact" else "*." + ".".join(p_labels)
    pattern_text = "*" if kind == "any" else render(p_scheme, pattern_host, p_port, data.draw(st.booleans()))
    header = render(scheme, host, port, upper=False)
    model = reference_match(
        (kind, p_scheme, p_labels, p_port or DEFAULT[p_scheme]), (scheme, labels, port or DEFAULT[scheme])
    )
    assert OriginAllowlist.compile([pattern_text]).allows(header) == model


@given(scheme=schemes, base=base_labels, port=ports)
def test_the_bare_domain_never_matches_a_wildcard(scheme: str, base: list[str], port: int | None) -> None:
    host = ".".join(base)
    allow = OriginAllowlist.compile([render(scheme, "*." + host, port, upper=False)])
    assert not allow.allows(render(scheme, host, port, upper=False))
    assert allow.allows(render(scheme, "www." + host, port, upper=False))


@pytest.mark.parametrize(
    ("pattern", "header", "allowed"),
    [
        ("https://shop.example.com", "https://shop.example.com", True),
        ("https://shop.example.com", "https://shop.example.com:443", True),
        ("https://shop.example.com:443/", "https://shop.example.com", True),
        ("https://shop.example.com", "http://shop.example.com", False),
        ("https://shop.example.com", "https://shop.example.com:8443", False),
        ("https://shop.example.com", "https://shop.example.com.", True),
        ("https://bücher.example", "https://xn--bcher-kva.example", True),
        ("https://*.example.com", "https://a.b.example.com", True),
        ("https://*.example.com", "https://example.com", False),
        ("https://*.example.com", "https://badexample.com", False),
        ("https://*.example.com", "https://example.com.evil.net", False),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000", True),
        ("http://[::1]:3000", "http://[0:0::1]:3000", True),
        ("chrome-extension://abcdefghijklmnop", "chrome-extension://abcdefghijklmnop", True),
        ("https://shop.example.com", "null", False),
        ("https://shop.example.com", "https://shop.example.com/", False),
        ("https://shop.example.com", "https://shop.example.com https://evil.com", False),
        ("https://shop.example.com", "https://user@shop.example.com", False),
        ("https://shop.example.com", "", False),
        ("*", "null", True),
        ("*", "anything at all", True),
    ],
)
def test_origin_table(pattern: str, header: str, allowed: bool) -> None:
    assert OriginAllowlist.compile([pattern]).allows(header) is allowed


@pytest.mark.parametrize(
    "pattern",
    ["null", "NULL", "https://*", "https://a*.example.com", "https://*.com", "shop.example.com",
     "https://shop.example.com/path", "https://shop.example.com:0", "https://0x7f000001", "http://[::1"],
)  # fmt: skip
def test_invalid_origin_patterns_name_the_pattern(pattern: str) -> None:
    with pytest.raises(InvalidPattern) as caught:
        OriginAllowlist.compile([pattern])
    assert repr(pattern) in str(caught.value)


def test_parse_origin_normalises_default_ports_and_case() -> None:
    assert parse_origin("HTTPS://Shop.Example.COM:443") == Origin("https", "shop.example.com", 443)
    assert parse_origin("capacitor://localhost") == Origin("capacitor", "localhost", None)
    with pytest.raises(InvalidOrigin):
        parse_origin("null")


def test_an_empty_origin_list_admits_no_origin() -> None:
    assert not OriginAllowlist.compile([]).allows("https://shop.example.com")
