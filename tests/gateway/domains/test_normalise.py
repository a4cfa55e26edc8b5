"""Custom domain hostnames: the normal form, and what no workspace may bind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domains.normalise import InvalidDomain, normalise_domain

OWN = ("127.0.0.1", "localhost", "img.example.net", "customers.img.example.net")


@pytest.mark.parametrize(
    ("given_text", "stored"),
    [
        ("img.customer.com", "img.customer.com"),
        ("  IMG.Customer.COM.  ", "img.customer.com"),
        ("bücher.example.com", "xn--bcher-kva.example.com"),
        ("BÜCHER.example.com", "xn--bcher-kva.example.com"),
        ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com"),
        ("shop.example.co.uk", "shop.example.co.uk"),
        ("example.co.uk", "example.co.uk"),  # a registrable apex (TXT verification)
        ("alice.github.io", "alice.github.io"),
    ],
)
def test_normal_form(given_text: str, stored: str) -> None:
    assert normalise_domain(given_text, OWN) == stored


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "give a hostname"),
        ("203.0.113.7", "IP address"),
        ("::1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("2130706433.example", None),  # fine: a name whose last label is not numeric
        ("127.1", "not a valid hostname"),
        ("https://img.customer.com", "no scheme"),
        ("img.customer.com:443", "no scheme, port"),
        ("img.customer.com/x", "path"),
        ("*.customer.com", "wildcard"),
        ("com", "full hostname"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("IMG.example.net.", "gateway's own"),
        ("customers.img.example.net", "gateway's own"),
        ("localhost", "full hostname"),
        ("-bad.customer.com", "start or end"),
        ("under_score.customer.com", "'_'"),
        ("a" * 64 + ".customer.com", "not a valid hostname"),
    ],
)
def test_refusals(text: str, why: str | None) -> None:
    if why is None:
        assert normalise_domain(text, OWN) == text
        return
    with pytest.raises(InvalidDomain, match=why.replace("*", r"\*").replace("(", r"\(")):
        normalise_domain(text, OWN)


@given(st.text(max_size=80))
def test_never_raises_anything_else_and_is_idempotent(text: str) -> None:
    try:
        stored = normalise_domain(text, OWN)
    except InvalidDomain:
        return
    assert normalise_domain(stored, OWN) == stored
