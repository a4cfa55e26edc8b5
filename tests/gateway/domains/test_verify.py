"""The DNS check against a real DNS server on loopback, with zones each test sets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.domains.verify import DomainVerifier, parse_resolvers
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.anyio

TARGET = "customers.img.example.net"
HOST = "img.customer.test"
TOKEN = "0123456789abcdef0123456789abcdef"
OWN_TARGET = f"{TOKEN}.{TARGET}"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zone(dns: DnsServer) -> Iterator[DnsServer]:
    yield dns
    with dns.lock:
        dns.records.clear()
        dns.servfail.clear()
        dns.silent.clear()


def verifier(dns: DnsServer, timeout: float = 1.0) -> DomainVerifier:
    return DomainVerifier(TARGET, [dns.address], timeout)


async def test_a_cname_to_the_domains_own_target_verifies(zone: DnsServer) -> None:
    zone.set(HOST, ("CNAME", OWN_TARGET))
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert verdict.verified and not verdict.unknown and verdict.reason == ""


async def test_a_cname_to_the_shared_target_proves_nothing_about_the_workspace(zone: DnsServer) -> None:
    # Pointing at the gateway is what every customer's name does: it cannot say which workspace owns it.
    zone.set(HOST, ("CNAME", TARGET))
    zone.set(TARGET, ("A", "192.0.2.1"))
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert not verdict.verified and not verdict.unknown
    assert f"points at {TARGET}: it must point at {OWN_TARGET}" in verdict.reason


async def test_another_claims_target_does_not_verify_this_claim(zone: DnsServer) -> None:
    zone.set(HOST, ("CNAME", f"{'f' * 32}.{TARGET}"))
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert not verdict.verified and not verdict.unknown


async def test_a_cname_chain_that_reaches_the_target_verifies(zone: DnsServer) -> None:
    zone.set(HOST, ("CNAME", "edge.customer.test"))
    zone.set("edge.customer.test", ("CNAME", "lb.partner.test"))
    zone.set("lb.partner.test", ("CNAME", OWN_TARGET.upper()))  # names compare case-insensitively
    assert (await verifier(zone).check(HOST, TOKEN)).verified


async def test_a_cname_to_another_target_is_a_definitive_reason(zone: DnsServer) -> None:
    zone.set(HOST, ("CNAME", "other.cdn.test"))
    zone.set("other.cdn.test", ("A", "192.0.2.1"))
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert not verdict.verified and not verdict.unknown
    assert f"ends at other.cdn.test, not {OWN_TARGET}" in verdict.reason


async def test_a_cname_loop_ends(zone: DnsServer) -> None:
    zone.set(HOST, ("CNAME", "b.customer.test"))
    zone.set("b.customer.test", ("CNAME", HOST))
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert not verdict.verified and "loops" in verdict.reason


async def test_the_txt_token_verifies_an_apex_domain(zone: DnsServer) -> None:
    zone.set("customer.test", ("A", "192.0.2.7"))
    zone.set("_imgate-challenge.customer.test", ("TXT", TOKEN))
    assert (await verifier(zone).check("customer.test", TOKEN)).verified


async def test_a_wrong_txt_token_does_not(zone: DnsServer) -> None:
    zone.set("customer.test", ("A", "192.0.2.7"))
    zone.set("_imgate-challenge.customer.test", ("TXT", "someone-elses"))
    verdict = await verifier(zone).check("customer.test", TOKEN)
    assert not verdict.verified and not verdict.unknown
    assert "no TXT record _imgate-challenge.customer.test" in verdict.reason


async def test_nxdomain_says_the_name_does_not_exist(zone: DnsServer) -> None:
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert not verdict.verified and not verdict.unknown
    assert f"{HOST} does not exist in DNS (NXDOMAIN)" in verdict.reason


async def test_servfail_is_unknown_with_a_clear_reason(zone: DnsServer) -> None:
    zone.servfail.add(HOST)
    zone.servfail.add(f"_imgate-challenge.{HOST}")
    verdict = await verifier(zone).check(HOST, TOKEN)
    assert not verdict.verified and verdict.unknown
    assert "SERVFAIL" in verdict.reason and "tried again" in verdict.reason


async def test_a_timeout_is_unknown_with_a_clear_reason(zone: DnsServer) -> None:
    zone.silent.add(HOST)
    zone.set(f"_imgate-challenge.{HOST}", ("TXT", "wrong"))
    verdict = await verifier(zone, timeout=0.3).check(HOST, TOKEN)
    assert not verdict.verified and verdict.unknown
    assert f"the DNS lookup of {HOST} timed out" in verdict.reason


async def test_a_timeout_does_not_hide_a_token_that_verifies(zone: DnsServer) -> None:
    zone.silent.add(HOST)
    zone.set(f"_imgate-challenge.{HOST}", ("TXT", TOKEN))
    assert (await verifier(zone, timeout=0.3).check(HOST, TOKEN)).verified


async def test_no_resolver_listening_is_unknown_not_a_crash() -> None:
    from loopback.ports import free_port

    verdict = await DomainVerifier(TARGET, [f"127.0.0.1:{free_port('127.0.0.1')}"], 0.3).check(HOST, TOKEN)
    assert not verdict.verified and verdict.unknown


def test_resolver_entries_parse() -> None:
    assert parse_resolvers(["127.0.0.1:5353", "[::1]:53", "10.0.0.1"]) == [
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("10.0.0.1", 53),
    ]
    with pytest.raises(ValueError, match="dns.example"):
        parse_resolvers(["dns.example:53"])
