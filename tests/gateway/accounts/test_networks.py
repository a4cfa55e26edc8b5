"""IP allowlists: entries in normal form, typos refused, IPv4-mapped clients matched, junk allowed by no list."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.accounts.networks import MAX_ENTRIES, address_allowed, check_allowlist, normalise_network


@pytest.mark.parametrize(
    ("entry", "normal"),
    [
        ("203.0.113.0/24", "203.0.113.0/24"),
        (" 203.0.113.7 ", "203.0.113.7/32"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("::1", "::1/128"),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ],
)
def test_entries_are_stored_in_normal_form(entry: str, normal: str) -> None:
    assert normalise_network(entry) == normal


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("203.0.113.7/24", "host bits"),
        ("example.com", "CIDR"),
        ("203.0.113.0/33", "CIDR"),
        ("", "CIDR"),
        ("10.0.0.0/8,10.1.0.0/16", "CIDR"),
    ],
)
def test_bad_entries_are_refused_without_repeating_them(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        normalise_network(entry)
    assert not entry or entry not in str(refused.value)


def test_lists_drop_duplicates_and_are_bounded() -> None:
    assert check_allowlist(["10.0.0.0/8", "10.0.0.0/8 ", "::1"]) == ("10.0.0.0/8", "::1/128")
    many = [f"10.0.{n // 256}.{n % 256}" for n in range(MAX_ENTRIES + 1)]
    with pytest.raises(ValueError, match="at most"):
        check_allowlist(many)


def test_matching() -> None:
    entries = ("192.0.2.0/24", "2001:db8::/32")
    assert address_allowed((), "anything at all")
    assert address_allowed(entries, "192.0.2.10") and address_allowed(entries, "::ffff:192.0.2.10")
    assert address_allowed(entries, "[2001:db8::5]")
    assert not address_allowed(entries, "192.0.3.10") and not address_allowed(entries, "junk")
    assert not address_allowed(entries, "::ffff:c000:30a")  # 192.0.3.10, mapped
    assert address_allowed(("::ffff:192.0.2.0/120",), "192.0.2.7") is False  # an IPv4 peer is not a mapped one
    assert address_allowed(("::ffff:192.0.2.0/120",), "::ffff:192.0.2.7")


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_an_address_is_allowed_exactly_by_the_networks_holding_it(address: object, length: int) -> None:
    assert isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    network = ipaddress.ip_network(f"{address}/{min(length, address.max_prefixlen)}", strict=False)
    assert address_allowed((str(network),), str(address))
    other = ipaddress.ip_network("198.51.100.0/24" if address.version == 4 else "2001:db8:ffff::/48")
    assert address_allowed((str(other),), str(address)) == (address in other)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        assert address_allowed((f"{address.ipv4_mapped}/32",), str(address))
