"""The client address: the socket's peer, or X-Forwarded-For read from the right behind trusted proxies."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.addresses import parse_address
from gateway.web.clientaddr import TrustedProxies


def scope(peer: str | None, *forwarded: str) -> dict[str, Any]:
    return {
        "client": None if peer is None else (peer, 51234),
        "headers": [(b"x-forwarded-for", value.encode("latin-1")) for value in forwarded],
    }


PROXIES = TrustedProxies(["10.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.5", ("198.51.100.1",), "203.0.113.5"),  # an untrusted peer's header is ignored
        ("10.1.1.1", (), "10.1.1.1"),  # a proxy without a header is the client itself
        ("10.1.1.1", ("198.51.100.1",), "198.51.100.1"),
        ("10.1.1.1", ("192.0.2.66, 198.51.100.1",), "198.51.100.1"),  # the left entry was the client's own
        ("10.1.1.1", ("198.51.100.1, 10.2.2.2",), "198.51.100.1"),  # a second trusted hop is skipped
        ("10.1.1.1", ("198.51.100.1", "10.2.2.2"), "198.51.100.1"),  # repeated headers are one list
        ("10.1.1.1", ("10.3.3.3, 10.2.2.2",), "10.3.3.3"),  # all trusted: the left-most
        ("10.1.1.1", (" 198.51.100.1 , ",), "198.51.100.1"),
        ("::1", ("[2001:db8::7]",), "2001:db8::7"),
        ("::ffff:10.1.1.1", ("198.51.100.1",), "198.51.100.1"),  # a mapped IPv4 peer is that IPv4 address
        ("::ffff:203.0.113.5", (), "203.0.113.5"),
    ],
)
def test_client_address(peer: str, forwarded: tuple[str, ...], client: str) -> None:
    assert PROXIES.client_address(scope(peer, *forwarded)) == ipaddress.ip_address(client)


@pytest.mark.parametrize(
    ("peer", "forwarded"),
    [
        ("10.1.1.1", ("198.51.100.1, not-an-address",)),
        ("10.1.1.1", ("198.51.100.1:8080",)),
        ("testclient", ()),
        (None, ()),
    ],
)
def test_an_address_nobody_can_vouch_for_is_none(peer: str | None, forwarded: tuple[str, ...]) -> None:
    assert PROXIES.client_address(scope(peer, *forwarded)) is None


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert TrustedProxies([]).client_address(scope("10.1.1.1", "198.51.100.1")) == ipaddress.ip_address("10.1.1.1")


@given(st.lists(st.text(max_size=20), max_size=5))
def test_the_client_is_never_a_trusted_proxy_unless_all_are(entries: list[str]) -> None:
    header = ",".join(entries)
    try:
        header.encode("latin-1")
    except UnicodeEncodeError:
        return
    found = PROXIES.client_address(scope("10.1.1.1", header))
    parsed = [parse_address(entry) for entry in header.split(",") if entry.strip()]
    if found is not None and any(address is not None and not PROXIES.trusts(address) for address in parsed):
        assert not PROXIES.trusts(found)
