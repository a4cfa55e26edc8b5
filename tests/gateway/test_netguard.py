from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import BlockedAddress
from gateway.netguard import (
    NO_PUBLIC_ADDRESS,
    GuardedResolver,
    NetGuard,
    classify,
    guarded_connector,
    host_address,
    resolve_public,
)
from tests.support.origin_server import OriginServer

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


# -- classify: tables ------------------------------------------------------------------------

NON_PUBLIC = [
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "cgnat"),
    ("10.1.2.3", "private"),
    ("172.31.255.255", "private"),
    ("192.168.0.1", "private"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this-network"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("192.0.0.8", "reserved"),
    ("192.88.99.1", "reserved"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fd00::1", "private"),
    ("fc00::1", "private"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("100::1", "discard"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "reserved"),
    ("2001:10::1", "reserved"),
    ("5f00::1", "reserved"),
    ("4000::1", "reserved"),
    ("::ffff:127.0.0.1", "loopback via ipv4-mapped"),
    ("::ffff:169.254.169.254", "link-local via ipv4-mapped"),
    ("::ffff:0:10.0.0.1", "private via ipv4-translated"),
    ("::127.0.0.1", "loopback via ipv4-compatible"),
    ("::0.0.0.2", "this-network via ipv4-compatible"),
    ("64:ff9b::7f00:1", "loopback via nat64"),
    ("64:ff9b::a9fe:a9fe", "link-local via nat64"),
    ("64:ff9b:1::c0a8:1", "private via nat64"),
    ("64:ff9b:1:ab::808:808", "nat64-local"),
    ("2002:7f00:1::", "loopback via 6to4"),
    ("2002:a00:1::1", "private via 6to4"),
    # Teredo: server 65.54.227.120 (public), client 192.0.2.45 (documentation) XOR-ed in the low bits.
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation via teredo"),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.32.0.1",
    "192.31.196.1",
    "223.255.255.255",
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "2001:4:112::1",
    "2001:1::1",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "64:ff9b:1::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "reason"), NON_PUBLIC)
def test_classify_names_the_reason_for_non_public_addresses(address: str, reason: str) -> None:
    assert classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_classify_lets_public_addresses_through(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None


# -- classify: properties over every wrapper form ----------------------------------------------

PUBLIC_V4 = st.ip_addresses(v=4).filter(lambda ip: classify(ip) is None)


def mapped(v4: V4) -> V6:
    return V6(0xFFFF << 32 | int(v4))


def translated(v4: V4) -> V6:
    return V6(0xFFFF << 48 | int(v4))


def compatible(v4: V4) -> V6:
    return V6(int(v4))


def nat64(v4: V4) -> V6:
    return V6(0x64FF9B << 96 | int(v4))


def nat64_local(v4: V4) -> V6:
    return V6(0x64FF9B0001 << 80 | int(v4))


def six_to_four(v4: V4, low80: int) -> V6:
    return V6(0x2002 << 112 | int(v4) << 80 | low80)


def teredo(server: V4, client: V4, flags_and_port: int) -> V6:
    return V6(0x20010000 << 96 | int(server) << 64 | flags_and_port << 32 | int(client) ^ 0xFFFFFFFF)


WRAPPERS = [mapped, translated, compatible, nat64, nat64_local]


@pytest.mark.parametrize("wrap", WRAPPERS, ids=lambda wrap: wrap.__name__)
@given(v4=st.ip_addresses(v=4))
def test_a_wrapper_is_public_exactly_when_its_ipv4_is(wrap, v4: V4) -> None:
    assert (classify(wrap(v4)) is None) == (classify(v4) is None)


@given(v4=st.ip_addresses(v=4), low80=st.integers(0, (1 << 80) - 1))
def test_6to4_is_public_exactly_when_its_ipv4_is(v4: V4, low80: int) -> None:
    assert (classify(six_to_four(v4, low80)) is None) == (classify(v4) is None)


@given(v4=st.ip_addresses(v=4), other=PUBLIC_V4, flags_and_port=st.integers(0, 0xFFFFFFFF))
def test_teredo_is_public_exactly_when_both_ends_are(v4: V4, other: V4, flags_and_port: int) -> None:
    assert (classify(teredo(other, v4, flags_and_port)) is None) == (classify(v4) is None)
    assert (classify(teredo(v4, other, flags_and_port)) is None) == (classify(v4) is None)


@given(v4=st.ip_addresses(v=4))
def test_every_public_ipv4_is_global_for_the_standard_library_too(v4: V4) -> None:
    # Our table is stricter than ipaddress.is_global, never looser.
    if classify(v4) is None:
        assert v4.is_global


IPV4_CARRIERS = [
    ipaddress.IPv6Network(net)
    for net in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
]


@given(v6=st.ip_addresses(v=6))
def test_a_public_ipv6_is_global_unicast_or_carries_a_public_ipv4(v6: V6) -> None:
    if classify(v6) is None:
        assert v6 in ipaddress.IPv6Network("2000::/3") or any(v6 in net for net in IPV4_CARRIERS)


# -- literal hosts in every numeric form -------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7F000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
    ],
)
def test_host_address_reads_every_numeric_form(host: str, address: str) -> None:
    assert host_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3.4.5", "4294967296", "256.1.1.1", "08.1"])
def test_host_address_is_none_for_names_and_non_addresses(host: str) -> None:
    assert host_address(host) is None


# -- NetGuard ------------------------------------------------------------------------------------


def test_guard_refuses_without_naming_the_address() -> None:
    with pytest.raises(BlockedAddress) as caught:
        NetGuard().check(V4("169.254.169.254"))
    assert caught.value.message == NO_PUBLIC_ADDRESS == "the source host has no public address"
    assert "169.254" not in str(caught.value)


def test_guard_allows_public_addresses() -> None:
    NetGuard().check(V4("8.8.8.8"))
    NetGuard().check(V6("2606:4700::1111"))


def test_trusted_networks_allow_only_what_they_cover() -> None:
    guard = NetGuard(["127.0.0.1/32", "fd00::/8"])
    guard.check(V4("127.0.0.1"))
    guard.check(V6("fd12::1"))
    for refused in ("127.0.0.2", "::1", "10.0.0.1", "::ffff:127.0.0.1"):
        with pytest.raises(BlockedAddress):
            guard.check(ipaddress.ip_address(refused))


def test_check_host_refuses_numeric_forms_and_leaves_names_to_the_resolver() -> None:
    guard = NetGuard()
    for host in ("2130706433", "0x7f.1", "127.1", "[::1]", "0.0.0.0"):
        with pytest.raises(BlockedAddress):
            guard.check_host(host)
    guard.check_host("example.com")


def test_a_trusted_network_must_be_a_cidr() -> None:
    with pytest.raises(ValueError, match="not a CIDR"):
        NetGuard(["127.0.0.1/33"])
    with pytest.raises(ValueError, match="not a CIDR"):
        NetGuard(["10.0.0.1/8"])  # host bits set: almost certainly a typo


# -- the resolver and the connector --------------------------------------------------------------


class AnswersResolver(AbstractResolver):
    """A resolver whose answers the test decides: a DNS server under an attacker's control."""

    def __init__(self, *answers: list[str]) -> None:
        self._answers: Iterator[list[str]] = iter(answers)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in next(self._answers)
        ]

    async def close(self) -> None:
        return None


@pytest.mark.anyio
async def test_resolver_refuses_a_name_if_any_answer_is_non_public() -> None:
    resolver = GuardedResolver(NetGuard(), AnswersResolver(["8.8.8.8", "10.0.0.1"]))
    with pytest.raises(BlockedAddress):
        await resolver.resolve("rebind.example", 80)


@pytest.mark.anyio
async def test_resolver_checks_every_resolution_not_only_the_first() -> None:
    resolver = GuardedResolver(NetGuard(), AnswersResolver(["8.8.8.8"], ["127.0.0.1"]))
    first = await resolver.resolve("rebind.example", 80)
    assert [result["host"] for result in first] == ["8.8.8.8"]
    with pytest.raises(BlockedAddress):
        await resolver.resolve("rebind.example", 80)


@pytest.mark.anyio
async def test_resolver_refuses_localhost_through_the_real_os_resolver() -> None:
    resolver = GuardedResolver(NetGuard())
    with pytest.raises(BlockedAddress):
        await resolver.resolve("localhost", 80, family=socket.AF_UNSPEC)
    await resolver.close()


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    with OriginServer() as server:
        server.file("/secret", b"internal data", "text/plain")
        yield server


@pytest.mark.anyio
@pytest.mark.integration
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f.1", "0x7f000001", "[::ffff:127.0.0.1]"])
async def test_guarded_connector_never_connects_to_loopback(origin: OriginServer, host: str) -> None:
    # No pre-check here: the connector alone must refuse, whether or not aiohttp calls the resolver.
    async with aiohttp.ClientSession(connector=guarded_connector(NetGuard())) as session:
        with pytest.raises(BlockedAddress):
            async with session.get(f"http://{host}:{origin.port}/secret"):
                pass
    assert origin.requests == []


@pytest.mark.anyio
@pytest.mark.integration
async def test_guarded_connector_refuses_ipv6_loopback() -> None:
    async with aiohttp.ClientSession(connector=guarded_connector(NetGuard())) as session:
        with pytest.raises(BlockedAddress):
            async with session.get("http://[::1]:9/"):
                pass


@pytest.mark.anyio
@pytest.mark.integration
async def test_guarded_connector_reaches_a_trusted_network(origin: OriginServer) -> None:
    guard = NetGuard(["127.0.0.1/32"])
    async with aiohttp.ClientSession(connector=guarded_connector(guard)) as session:
        async with session.get(origin.url("/secret")) as response:
            assert await response.read() == b"internal data"
    assert origin.hits("/secret") == 1


def test_guarded_connector_keeps_its_resolver() -> None:
    with pytest.raises(TypeError):
        guarded_connector(NetGuard(), resolver=None)


# -- resolve_public ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_resolve_public_refuses_loopback_names_and_literals() -> None:
    for host in ("localhost", "127.0.0.1", "0x7f.1", "2130706433", "::1"):
        with pytest.raises(BlockedAddress):
            await resolve_public(host, 80, NetGuard())


@pytest.mark.anyio
async def test_resolve_public_returns_the_checked_addresses() -> None:
    guard = NetGuard(["127.0.0.0/8", "::1/128"])
    assert await resolve_public("127.1", 80, guard) == ["127.0.0.1"]
    addresses = await resolve_public("localhost", 80, guard)
    assert addresses and set(addresses) <= {"127.0.0.1", "::1"}


class FailingResolver(AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        return None


@pytest.mark.anyio
async def test_resolve_public_answers_a_name_that_does_not_resolve_like_a_blocked_one() -> None:
    # Told apart, the two would let a caller map which names exist in an internal DNS zone.
    with pytest.raises(BlockedAddress) as missing:
        await resolve_public("no-such-host.example", 80, NetGuard(), resolver=FailingResolver())
    with pytest.raises(BlockedAddress) as internal:
        await resolve_public("db.example", 80, NetGuard(), resolver=AnswersResolver(["10.0.0.5"]))
    assert missing.value.message == internal.value.message == NO_PUBLIC_ADDRESS
    assert "no-such-host" not in missing.value.message


@pytest.mark.anyio
async def test_resolve_public_checks_every_answer_of_its_resolver() -> None:
    answers = AnswersResolver(["2606:4700::1111", "8.8.8.8", "8.8.8.8"], ["8.8.8.8", "fd00::1"])
    addresses = await resolve_public("ok.example", 443, NetGuard(), resolver=answers)
    assert addresses == ["2606:4700::1111", "8.8.8.8"]
    with pytest.raises(BlockedAddress):
        await resolve_public("ok.example", 443, NetGuard(), resolver=answers)
