"""The one reader of peer addresses and the one network set every allowlist and trust check uses."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.addresses import Networks, parse_address, peer_address


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        (" ::1 ", "::1"),
    ],
)
def test_parse_address(text: str, address: str) -> None:
    assert parse_address(text) == ipaddress.ip_address(address)


@pytest.mark.parametrize("text", ["", "testclient", "10.0.0.1:80", "999.1.1.1"])
def test_text_that_is_no_address(text: str) -> None:
    assert parse_address(text) is None


def test_peer_address_is_the_socket_only() -> None:
    headers = [(b"x-forwarded-for", b"198.51.100.1")]
    assert peer_address({"client": ("::ffff:10.1.2.3", 5000), "headers": headers}) == ipaddress.ip_address("10.1.2.3")
    assert peer_address({"client": None, "headers": headers}) is None
    assert peer_address({"headers": headers}) is None


def test_networks_match_both_forms_of_a_mapped_address() -> None:
    networks = Networks(["10.0.0.0/8", "2001:db8::/32"])
    assert ipaddress.ip_address("10.9.9.9") in networks
    assert ipaddress.ip_address("::ffff:10.9.9.9") in networks  # as a dual-stack socket may report it
    assert ipaddress.ip_address("2001:db8::7") in networks
    assert ipaddress.ip_address("192.0.2.1") not in networks
    assert None not in networks  # an unknown client is in no list
    mapped = Networks(["::ffff:10.0.0.0/104"])
    assert ipaddress.ip_address("10.1.1.1") not in mapped  # a plain IPv4 address is no mapped one
    assert not Networks() and len(networks) == 2
