from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import BlockedAddress
from gateway.netguard import (
    NO_PUBLIC_ADDRESS,
    DenyList,
    DenyRules,
    GuardedResolver,
    NetGuard,
    classify,
    guard_for,
    guarded_connector,
    host_address,
    resolve_public,
)
from gateway.settings import Settings, SettingsError, load_settings
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


# -- the operator's deny lists -------------------------------------------------------------------

DENY = DenyRules.parse(
    networks=["8.8.8.0/24", "2606:4700::/32", "127.0.0.1/32"],
    hosts=["metadata.google.internal", "*.corp.example", "*.internal"],
)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",  # public, and denied
        "::ffff:8.8.8.8",  # the same address in every IPv6 wrapper that carries it
        "64:ff9b::808:808",
        "2002:808:808::1",
        "2606:4700::1111",
        "127.0.0.1",  # trusted below, and denied all the same: deny beats trust
    ],
)
def test_deny_networks_refuse_public_and_trusted_addresses(address: str) -> None:
    guard = NetGuard(["127.0.0.1/32"], DENY)
    with pytest.raises(BlockedAddress) as caught:
        guard.check(ipaddress.ip_address(address))
    assert caught.value.message == NO_PUBLIC_ADDRESS  # the same answer: the deny list cannot be probed


def test_deny_networks_leave_the_rest_alone() -> None:
    guard = NetGuard(["127.0.0.0/8"], DENY)
    guard.check(V4("8.8.4.4"))
    guard.check(V4("127.0.0.2"))
    guard.check(V6("2606:4800::1"))


@pytest.mark.parametrize(
    "host",
    [
        "metadata.google.internal",
        "METADATA.google.internal.",  # case and the root dot do not matter
        "a.corp.example",
        "deep.a.corp.example",
        "anything.internal",
    ],
)
def test_deny_hosts_refuse_exact_names_and_subdomains(host: str) -> None:
    guard = NetGuard(deny=DENY)
    with pytest.raises(BlockedAddress):
        guard.check_name(host)
    with pytest.raises(BlockedAddress):
        guard.check_host(host)


@pytest.mark.parametrize("host", ["corp.example", "notcorp.example", "google.internal.example", "internal"])
def test_deny_host_patterns_cover_subdomains_only(host: str) -> None:
    # "*.corp.example" is every subdomain and never corp.example itself, as in the allowlists.
    NetGuard(deny=DENY).check_host(host)


@pytest.mark.anyio
async def test_a_denied_name_is_refused_before_any_dns_query() -> None:
    asked: list[str] = []

    class Recording(AnswersResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            asked.append(host)
            return await super().resolve(host, port, family)

    guard = NetGuard(deny=DENY)
    with pytest.raises(BlockedAddress):
        await GuardedResolver(guard, Recording(["8.8.4.4"])).resolve("x.corp.example", 443)
    with pytest.raises(BlockedAddress):
        await resolve_public("metadata.google.internal", 80, guard, resolver=Recording(["8.8.4.4"]))
    assert asked == []
    # A public name that is not denied resolves; one that resolves into a denied network does not.
    assert await resolve_public("ok.example", 80, guard, resolver=Recording(["8.8.4.4"])) == ["8.8.4.4"]
    with pytest.raises(BlockedAddress):
        await resolve_public("cdn.example", 80, guard, resolver=Recording(["8.8.8.8"]))


@pytest.mark.anyio
@pytest.mark.integration
async def test_the_connector_refuses_a_denied_address_inside_a_trusted_network(origin: OriginServer) -> None:
    guard = NetGuard(["127.0.0.0/8"], DenyRules.parse(networks=["127.0.0.1/32"]))
    async with aiohttp.ClientSession(connector=guarded_connector(guard)) as session:
        with pytest.raises(BlockedAddress):
            async with session.get(origin.url("/secret")):
                pass
    assert origin.requests == []


def test_trusting_other_networks_keeps_the_deny_lists() -> None:
    gateway = NetGuard(["10.0.0.0/8"], DENY)
    pages = gateway.trusting([])
    assert pages.trusted_networks == ()
    with pytest.raises(BlockedAddress):
        pages.check(V4("10.0.0.1"))  # the gateway's trust is not the pages'
    with pytest.raises(BlockedAddress):
        pages.check_name("metadata.google.internal")
    assert pages.deny_rules is gateway.deny_rules


def test_bad_deny_entries_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="deny network 'ten'"):
        DenyRules.parse(networks=["ten"])
    with pytest.raises(SettingsError, match="deny_networks"):
        DenyRules.parse(hosts=["169.254.169.254"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write_deny(path: Path, networks: list[str], hosts: list[str], extra: str = "") -> None:
    quoted = ", ".join(f'"{item}"' for item in networks), ", ".join(f'"{item}"' for item in hosts)
    path.write_text(f"deny_networks = [{quoted[0]}]\ndeny_hosts = [{quoted[1]}]\n{extra}")


def test_a_changed_settings_file_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    write_deny(config, [], [])
    settings = load_settings(config_path=config, environ={})
    clock = Clock()
    guard = NetGuard(settings.trusted_networks, DenyList.for_settings(settings, clock=clock))
    guard.check(V4("8.8.8.8"))
    write_deny(config, ["8.8.8.0/24"], ["*.corp.example"])
    clock.now += 0.5
    guard.check(V4("8.8.8.8"))  # looked at once a second at most: not yet
    clock.now += 0.6
    with pytest.raises(BlockedAddress):
        guard.check(V4("8.8.8.8"))
    with pytest.raises(BlockedAddress):
        guard.check_host("db.corp.example")
    write_deny(config, [], [])
    clock.now += 1.1
    guard.check(V4("8.8.8.8"))
    guard.check_host("db.corp.example")


def test_a_settings_file_that_does_not_read_keeps_the_rules_in_force(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "gateway.toml"
    write_deny(config, ["8.8.8.0/24"], [])
    settings = load_settings(config_path=config, environ={})
    clock = Clock()
    guard = NetGuard((), DenyList.for_settings(settings, clock=clock))
    for broken in ("deny_networks = [\n", 'deny_networks = ["eight"]\n', "prot = 1\n"):
        config.write_text(broken)
        clock.now += 1.1
        with caplog.at_level(logging.WARNING, logger="gateway.netguard"):
            with pytest.raises(BlockedAddress):
                guard.check(V4("8.8.8.8"))  # an edit in progress never lifts a deny rule
    assert sum("deny lists unchanged" in record.getMessage() for record in caplog.records) == 3
    config.unlink()
    clock.now += 1.1
    with pytest.raises(BlockedAddress):
        guard.check(V4("8.8.8.8"))


def test_the_gateway_guard_follows_its_settings(tmp_path: Path) -> None:
    # Settings built in code have no file to follow; settings read from one do.
    assert guard_for(Settings(deny_networks=("8.8.8.0/24",))).deny_rules.networks == (
        ipaddress.ip_network("8.8.8.0/24"),
    )
    config = tmp_path / "gateway.toml"
    write_deny(config, [], ["metadata.google.internal"], extra='trusted_networks = ["127.0.0.1/32"]\n')
    guard = guard_for(load_settings(config_path=config, environ={}))
    guard.check(V4("127.0.0.1"))
    with pytest.raises(BlockedAddress):
        guard.check_host("metadata.google.internal")
