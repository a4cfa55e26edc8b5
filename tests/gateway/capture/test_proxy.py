"""The egress proxy on its own, spoken to over real sockets the way Chromium speaks to it."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.capture.machinery import MachineryPorts
from gateway.capture.proxy import EgressProxy
from gateway.netguard import DenyRules, NetGuard
from tests.gateway.capture.testsite import Canary, TestSite

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def proxy() -> AsyncIterator[EgressProxy]:
    egress = EgressProxy(NetGuard(["127.0.0.1/32"]), connect_timeout=2.0, idle_timeout=5.0)
    await egress.start()
    yield egress
    await egress.aclose()


async def exchange(port: int, request: bytes, then: bytes = b"") -> bytes:
    """Send ``request``; if the proxy answers 200 to a CONNECT, send ``then`` through the tunnel."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        if then:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                return head
            writer.write(then)
            await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionResetError):  # a proxy that hung up on us unread
            await writer.wait_closed()


def status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


async def test_forwards_plain_http_as_one_request_per_connection(proxy: EgressProxy, site: TestSite) -> None:
    host = site.origin.removeprefix("http://")
    response = await exchange(
        proxy.port,
        f"GET {site.origin}/headers?x=1 HTTP/1.1\r\nHost: {host}\r\nProxy-Connection: keep-alive\r\n"
        "Proxy-Authorization: Basic c2VjcmV0\r\nConnection: keep-alive, X-Drop-Me\r\nX-Drop-Me: 1\r\n"
        "X-Keep-Me: 1\r\n\r\n".encode(),
    )
    head, _, body = response.partition(b"\r\n\r\n")
    assert status(response) == 200
    assert b"\r\nConnection: close" in head
    # What the origin saw: the proxy's own and hop-by-hop headers are gone, the rest arrived.
    assert b"X-Keep-Me: 1" in body
    for dropped in (b"Proxy-Connection", b"Proxy-Authorization", b"X-Drop-Me", b"keep-alive"):
        assert dropped not in body
    assert proxy.forwarded == 1


async def test_tunnels_connect_to_an_allowed_address(proxy: EgressProxy, site: TestSite) -> None:
    host = site.origin.removeprefix("http://")
    response = await exchange(
        proxy.port,
        f"CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
        then=f"GET /simple.html HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status(response) == 200
    assert b"A simple page" in response


@pytest.mark.parametrize(
    "target",
    [
        "{canary}",
        "169.254.169.254:80",
        "[::1]:{canary_port}",
        "0.0.0.0:{canary_port}",
        "[::ffff:127.0.0.2]:{canary_port}",
        "0x7f000002:{canary_port}",
        "10.0.0.1:80",
        "100.64.0.1:80",
    ],
)
async def test_refuses_non_public_addresses(proxy: EgressProxy, canary: Canary, target: str) -> None:
    target = target.format(canary=canary.address, canary_port=canary.address.rpartition(":")[2])
    connect = await exchange(proxy.port, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    forward = await exchange(proxy.port, f"GET http://{target}/ HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    assert status(connect) == 403
    assert status(forward) == 403
    assert proxy.refused == 2
    assert proxy.forwarded == 0
    assert canary.hits == 0


async def test_refuses_the_capture_machinery_even_on_trusted_loopback(proxy: EgressProxy, site: TestSite) -> None:
    port = int(site.origin.rpartition(":")[2])
    proxy.protect_loopback_port(port)
    response = await exchange(proxy.port, f"GET {site.origin}/ HTTP/1.1\r\n\r\n".encode())
    assert status(response) == 403
    own = await exchange(proxy.port, f"CONNECT 127.0.0.1:{proxy.port} HTTP/1.1\r\n\r\n".encode())
    assert status(own) == 403


async def test_the_browser_listener_refuses_everything(proxy: EgressProxy, site: TestSite) -> None:
    port = int(proxy.browser_url().rpartition(":")[2])
    response = await exchange(port, f"GET {site.origin}/simple.html HTTP/1.1\r\n\r\n".encode())
    assert status(response) == 403
    assert proxy.background_refused == 1
    assert proxy.forwarded == 0


@pytest.mark.parametrize(
    "request_head",
    [
        b"NONSENSE\r\n\r\n",
        b"CONNECT example.com HTTP/1.1\r\n\r\n",
        b"CONNECT user@example.com:443 HTTP/1.1\r\n\r\n",
        b"GET /relative HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"GET https://example.com/ HTTP/1.1\r\n\r\n",
        b"GET ftp://example.com/ HTTP/1.1\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nBad Header\r\n\r\n",
    ],
)
async def test_malformed_requests_get_400(proxy: EgressProxy, request_head: bytes) -> None:
    assert status(await exchange(proxy.port, request_head)) == 400
    assert proxy.forwarded == 0


async def test_only_listed_clients_may_use_it(site: TestSite) -> None:
    egress = EgressProxy(NetGuard(["127.0.0.1/32"]), clients=("10.0.0.0/8",))
    await egress.start()
    try:
        try:
            response = await exchange(egress.port, f"GET {site.origin}/simple.html HTTP/1.1\r\n\r\n".encode())
        except ConnectionResetError:
            response = b""
    finally:
        await egress.aclose()
    assert response == b""  # dropped without a word
    assert egress.forwarded == 0


async def test_a_name_that_does_not_resolve_is_refused_like_an_internal_one() -> None:
    # A page must not learn, from how its requests fail, which names exist in an internal DNS zone.
    egress = EgressProxy(NetGuard(), connect_timeout=2.0, idle_timeout=5.0)
    await egress.start()
    try:
        requests = [f"CONNECT {host}:443 HTTP/1.1\r\n\r\n" for host in ("localhost", "no-such-host.invalid")]
        requests += [f"GET http://{host}/ HTTP/1.1\r\n\r\n" for host in ("localhost", "no-such-host.invalid")]
        answers = [(await exchange(egress.port, request.encode())).split(b"\r\n", 1)[0] for request in requests]
    finally:
        await egress.aclose()
    assert answers == [b"HTTP/1.1 403 Forbidden"] * 4
    assert egress.refused == 4 and egress.forwarded == 0


def own_addresses() -> list[str]:
    """Loopback, the unspecified address, and this machine's address on its default route (if it has one)."""
    addresses = ["127.0.0.1", "0.0.0.0"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            addresses.append(probe.getsockname()[0])
        except OSError:
            pass
    return addresses


async def test_refuses_every_registered_port_of_the_node_on_every_address_of_this_machine(tmp_path: Path) -> None:
    # The canary stands for another worker's ChromeDriver: listening on every address of this machine, on a
    # network the proxy trusts, known to this proxy only through the node's registry.
    canary = Canary("0.0.0.0")
    registry = MachineryPorts(tmp_path)
    egress = EgressProxy(NetGuard(["0.0.0.0/0"]), machinery=MachineryPorts(tmp_path), connect_timeout=2.0)
    await egress.start()
    try:
        reachable = await exchange(egress.port, f"CONNECT 127.0.0.1:{canary.port} HTTP/1.1\r\n\r\n".encode())
        assert status(reachable) == 200 and canary.hits == 1  # what the registry is for: it was reachable
        registry.register("another-worker.1", {"chromedriver": canary.port})
        for address in own_addresses():
            target = f"{address}:{canary.port}"
            connect = await exchange(egress.port, f"CONNECT {target} HTTP/1.1\r\n\r\n".encode())
            forward = await exchange(egress.port, f"GET http://{target}/status HTTP/1.1\r\n\r\n".encode())
            assert (status(connect), status(forward)) == (403, 403), address
        assert egress.refused == 2 * len(own_addresses())
        assert canary.hits == 1
    finally:
        registry.unregister("another-worker.1")
        await egress.aclose()
        canary.close()


async def test_a_port_registered_on_another_machine_s_address_is_not_refused(tmp_path: Path, site: TestSite) -> None:
    # The registry is about this machine: the same port number elsewhere is an ordinary (checked) target.
    registry = MachineryPorts(tmp_path)
    egress = EgressProxy(NetGuard(["127.0.0.1/32"]), machinery=registry)
    await egress.start()
    try:
        assert not egress.is_machinery(ipaddress.ip_address("8.8.8.8"), egress.port)
        assert egress.is_machinery(ipaddress.ip_address("127.0.0.1"), egress.port)
        host = site.origin.removeprefix("http://")
        assert (
            status(
                await exchange(egress.port, f"GET {site.origin}/simple.html HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            )
            == 200
        )
    finally:
        await egress.aclose()


async def test_its_own_ports_are_registered_while_it_runs(tmp_path: Path) -> None:
    registry = MachineryPorts(tmp_path)
    egress = EgressProxy(NetGuard(), machinery=registry, name="worker-proxy")
    await egress.start()
    browser_port = int(egress.browser_url().rpartition(":")[2])
    assert registry.ports() == {egress.port, browser_port}
    await egress.aclose()
    assert registry.ports() == frozenset()


async def test_deny_lists_apply_to_page_requests_even_inside_trusted_networks(site: TestSite) -> None:
    deny = DenyRules.parse(networks=["127.0.0.1/32"], hosts=["*.corp.example", "metadata.google.internal"])
    egress = EgressProxy(NetGuard(["127.0.0.1/32"], deny), connect_timeout=2.0, idle_timeout=5.0)
    await egress.start()
    try:
        host = site.origin.removeprefix("http://")
        requests = [
            f"GET {site.origin}/simple.html HTTP/1.1\r\nHost: {host}\r\n\r\n",
            f"CONNECT {host} HTTP/1.1\r\n\r\n",
            "CONNECT db.corp.example:443 HTTP/1.1\r\n\r\n",
            "GET http://metadata.google.internal/computeMetadata/v1/ HTTP/1.1\r\n\r\n",
        ]
        answers = [status(await exchange(egress.port, request.encode())) for request in requests]
    finally:
        await egress.aclose()
    assert answers == [403] * 4
    assert egress.forwarded == 0
