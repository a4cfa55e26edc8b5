"""Host normalisation and host patterns, checked against a reference model written as label lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.policy import HostPattern, InvalidHost, InvalidPattern, normalise_host
from gateway.policy.hosts import pattern_texts

# Published punycode forms (RFC 3492 style), so the model does not ask the library under test.
IDN_LABELS = {
    "bücher": "xn--bcher-kva",
    "münchen": "xn--mnchen-3ya",
    "пример": "xn--e1afmkfd",
    "españa": "xn--espaa-rta",
}
ASCII_LABELS = ["a", "b", "cdn", "shop", "example", "com", "x-y", "a1", "img_2"]
LABEL_POOL = ASCII_LABELS + list(IDN_LABELS) + list(IDN_LABELS.values())


def canonical(label: str) -> str:
    lowered = label.lower()
    return IDN_LABELS.get(lowered, lowered)


def reference_match(kind: str, base: list[str], host: list[str]) -> bool:
    """The model: hosts are lists of canonical labels; a wildcard needs strictly more labels than its base."""
    host_c, base_c = [canonical(x) for x in host], [canonical(x) for x in base]
    if kind == "any":
        return True
    if kind == "exact":
        return host_c == base_c
    return len(host_c) > len(base_c) and host_c[-len(base_c) :] == base_c


@st.composite
def spelled(draw: st.DrawFn, labels: list[str]) -> str:
    """One of the many ways to write the same host: any case per label, maybe a trailing dot."""
    parts = [label.upper() if draw(st.booleans()) else label for label in labels]
    if draw(st.booleans()):
        # The punycode and Unicode spellings of one label must be interchangeable.
        parts = [_swap_idn(p) if draw(st.booleans()) else p for p in parts]
    return ".".join(parts) + ("." if draw(st.booleans()) else "")


def _swap_idn(label: str) -> str:
    lowered = label.lower()
    for unicode_form, ascii_form in IDN_LABELS.items():
        if lowered == unicode_form:
            return ascii_form
        if lowered == ascii_form:
            return unicode_form
    return label


labels = st.lists(st.sampled_from(LABEL_POOL), min_size=1, max_size=4)
bases = st.lists(st.sampled_from(LABEL_POOL), min_size=2, max_size=3)


@st.composite
def host_near(draw: st.DrawFn, base: list[str]) -> list[str]:
    """Hosts that are likely to be interesting for ``base``: itself, under it, or unrelated."""
    return draw(
        st.one_of(
            st.just(base),
            labels.map(lambda prefix: prefix + base),
            labels,
            st.just(base[1:]),  # the parent domain
        )
    )


@given(data=st.data(), kind=st.sampled_from(["any", "exact", "wildcard"]), base=bases)
def test_host_patterns_agree_with_the_label_model(data: st.DataObject, kind: str, base: list[str]) -> None:
    host = data.draw(host_near(base))
    written = data.draw(spelled(base))
    pattern_text = {"any": "*", "exact": written, "wildcard": "*." + written}[kind]
    pattern = HostPattern.compile(pattern_text)
    assert pattern.matches(normalise_host(data.draw(spelled(host)))) == reference_match(kind, base, host)


@given(data=st.data(), base=bases)
def test_the_bare_domain_never_matches_its_wildcard(data: st.DataObject, base: list[str]) -> None:
    pattern = HostPattern.compile("*." + data.draw(spelled(base)))
    assert not pattern.matches(normalise_host(data.draw(spelled(base))))
    assert not HostPattern.compile("*." + ".".join(base)).matches(normalise_host(".".join(base)))


@given(data=st.data(), host=labels)
def test_every_spelling_of_a_host_normalises_to_one_form(data: st.DataObject, host: list[str]) -> None:
    expected = ".".join(canonical(label) for label in host)
    assert normalise_host(data.draw(spelled(host))) == expected


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_numeric_ipv4_spellings_other_than_dotted_quad_are_refused(number: int) -> None:
    for spelling in (str(number), hex(number), f"0{number:o}", f"{number >> 24}.{number & 0xFFFFFF}"):
        with pytest.raises(InvalidHost):
            normalise_host(spelling)


@given(st.lists(st.integers(min_value=0, max_value=255), min_size=4, max_size=4))
def test_a_canonical_dotted_quad_is_kept_and_only_exactly_named(octets: list[int]) -> None:
    address = ".".join(map(str, octets))
    assert normalise_host(address) == address
    assert not HostPattern.compile("*").matches(address)
    assert HostPattern.compile(address).matches(address)


@pytest.mark.parametrize(
    "host",
    ["0177.0.0.1", "127.1", "0x7f.0.0.1", "127.0.0.01", "256.0.0.1", "1.2.3.4.5", "a.b.0x", "１２７.1"],
)
def test_odd_ipv4_notations_are_refused(host: str) -> None:
    with pytest.raises(InvalidHost):
        normalise_host(host)


@pytest.mark.parametrize(
    ("spelling", "normal"),
    [
        ("Example.COM.", "example.com"),
        ("ＥＸＡＭＰＬＥ.com", "example.com"),  # full-width letters map to ASCII, as in a browser
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("例え。テスト", "xn--r8jz45g.xn--zckzah"),  # ideographic full stop separates labels
        ("１２７.０.０.１", "127.0.0.1"),
    ],
)
def test_browser_style_mapping(spelling: str, normal: str) -> None:
    assert normalise_host(spelling) == normal


@pytest.mark.parametrize(
    "host",
    ["", ".", "a..b", ".a.b", "a b.com", "a/b.com", "a@b.com", "a:1", "ex＠mple.com", "evil.com／.x.com"],
)
def test_malformed_hosts_are_refused_without_echoing_them(host: str) -> None:
    with pytest.raises(InvalidHost) as caught:
        normalise_host(host)
    assert host not in str(caught.value) or host == ""


@pytest.mark.parametrize(
    "pattern", ["*.com", "a.*.com", "*foo.com", "**.example.com", "*.1.2.3.4", "2130706433", "", "*."]
)
def test_invalid_host_patterns_name_the_pattern(pattern: str) -> None:
    with pytest.raises(InvalidPattern) as caught:
        HostPattern.compile(pattern)
    assert repr(pattern) in str(caught.value)


def test_wildcards_match_any_depth_but_never_a_lookalike() -> None:
    wildcard, exact = HostPattern.compile("*.example.com"), HostPattern.compile("exact.org")
    assert wildcard.matches("a.example.com") and wildcard.matches("a.b.c.example.com") and exact.matches("exact.org")
    assert not wildcard.matches("example.com")
    assert not wildcard.matches("badexample.com")
    assert not wildcard.matches("example.com.evil.net")
    assert not exact.matches("sub.exact.org") and not wildcard.matches("sub.exact.org")


def test_a_string_is_not_a_list_of_patterns() -> None:
    with pytest.raises(TypeError):
        pattern_texts("example.com")
    assert pattern_texts(("example.com",)) == ["example.com"]
