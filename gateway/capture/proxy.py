"""The egress proxy: the only way out for every request a capture browser makes.

Chromium is started with ``--proxy-server`` pointing here and ``--proxy-bypass-list=<-loopback>``, so
pages, subresources, redirects, fetch/XHR and WebSockets (which Chromium always tunnels with CONNECT)
all arrive as either

- ``CONNECT host:port`` (https, wss, ws): a byte tunnel once the target is allowed, or
- ``GET http://host/path`` (plain http): forwarded as one request per connection.

For each, the host is resolved once, every address is checked by the ``NetGuard`` (netguard.py), and the
proxy connects to the checked address itself, never to the name again: a DNS answer that changes
between check and connect (rebinding) has nothing left to change. Refused targets get 403 and are
counted and logged; the log says why but never where, as addresses are internal information.

Two listeners: captures use the first (each capture's browser context is given it). The second is the
browser-wide ``--proxy-server``, used by Chromium's own background traffic (component updates, network
time, account and search-engine preconnects, which no flag stops entirely); it refuses everything, so a
browser never talks to anyone by itself, and a request that somehow escaped its context's proxy
setting fails closed.

The capture machinery is refused on every address of this machine whatever the guard trusts: the ports
of every worker's proxy, ChromeDriver and DevTools, and the gateway's own, as the node-wide registry
(machinery.py) lists them, plus any given to ``protect_loopback_port``. Nothing a page does can drive a
browser, this node's or another worker's, or make the gateway capture itself. The guard the gateway
hands this proxy trusts ``[capture] trusted_networks`` (empty by default), never the gateway's own
``trusted_networks``, so by default no page reaches a non-public address at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gateway.capture.machinery import MachineryPorts
from gateway.errors import BlockedAddress
from gateway.netguard import IPAddress, NetGuard, resolve_public

logger = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
_CHUNK = 64 * 1024
# Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own; the connection to the origin is ours.
# Transfer-Encoding stays: bodies are relayed byte for byte, framing included.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "upgrade", "te"}
)


class _Refused(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_FORBIDDEN = "403 Forbidden"
_BAD_GATEWAY = "502 Bad Gateway"
_BAD_REQUEST = "400 Bad Request"


@dataclass(frozen=True, slots=True)
class _Head:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]


class EgressProxy:
    def __init__(
        self,
        guard: NetGuard,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clients: Sequence[str] = ("127.0.0.0/8", "::1/128"),
        connect_timeout: float = 5.0,
        idle_timeout: float = 30.0,
        max_connections: int = 1024,
        machinery: MachineryPorts | None = None,
        name: str = "proxy",
    ) -> None:
        self._guard = guard
        self._machinery = machinery if machinery is not None else MachineryPorts()
        self._name = name
        self._host = host.strip("[]")
        self._port = port
        self._clients = tuple(ipaddress.ip_network(network) for network in clients)
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._slots = asyncio.BoundedSemaphore(max_connections)
        self._servers: list[asyncio.Server] = []
        self._browser_port = 0
        self._connections: set[asyncio.Task[None]] = set()
        self._protected_ports: set[int] = set()
        self.refused = 0
        self.forwarded = 0
        self.background_refused = 0

    async def start(self) -> None:
        # Bound, registered, and only then listening: no page anywhere on the node can reach a listener
        # that the registry does not list yet.
        capture_socket, browser_socket = _bound_socket(self._host, self._port), _bound_socket(self._host, 0)
        try:
            self._port = capture_socket.getsockname()[1]
            self._browser_port = browser_socket.getsockname()[1]
            self.protect_loopback_port(self._port)
            self.protect_loopback_port(self._browser_port)
            self._machinery.register(self._name, {"proxy": self._port, "proxy-background": self._browser_port})
            self._servers.append(
                await asyncio.start_server(self._serve_capture, sock=capture_socket, limit=MAX_HEAD_BYTES)
            )
            self._servers.append(
                await asyncio.start_server(self._serve_browser, sock=browser_socket, limit=MAX_HEAD_BYTES)
            )
        except BaseException:
            capture_socket.close()
            browser_socket.close()
            await self.aclose()
            raise

    @property
    def port(self) -> int:
        return self._port

    def url(self, public_host: str | None = None) -> str:
        """The proxy for capture contexts: ``http://host:port``."""
        return _url(public_host or self._host, self._port)

    def browser_url(self, public_host: str | None = None) -> str:
        """The browser-wide ``--proxy-server``, which refuses everything."""
        return _url(public_host or self._host, self._browser_port)

    def protect_loopback_port(self, port: int) -> None:
        """Refuse ``port`` on this machine's addresses too (besides what the registry lists)."""
        self._protected_ports.add(port)

    def is_machinery(self, address: IPAddress, port: int) -> bool:
        """Whether ``address:port`` is capture machinery: a registered port on an address of this machine."""
        if not _on_this_machine(address):
            return False
        return port in self._protected_ports or port in self._machinery.ports()

    async def aclose(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        self._machinery.unregister(self._name)

    async def _serve_capture(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve(reader, writer, self._handle)

    async def _serve_browser(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve(reader, writer, self._refuse_all)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - always inside a task here
        self._connections.add(task)
        try:
            if not self._client_allowed(writer) or self._slots.locked():
                return
            async with self._slots:
                await handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # the browser went away or sent nonsense: nothing to answer
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()

    def _client_allowed(self, writer: asyncio.StreamWriter) -> bool:
        peer = writer.get_extra_info("peername")
        try:
            address = ipaddress.ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            return False
        return any(address in network for network in self._clients)

    async def _refuse_all(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self._idle_timeout)
        self.background_refused += 1
        writer.write(_refusal(_FORBIDDEN))
        await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self._idle_timeout)
        try:
            head = _parse_head(raw)
            if head.method == "CONNECT":
                host, port = _authority(head.target)
                upstream = await self._open(host, port)
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await writer.drain()
            else:
                host, port, request = _origin_request(head)
                upstream = await self._open(host, port)
                upstream[1].write(request)
        except _Refused as refusal:
            self.refused += 1
            logger.info("capture egress refused (%s)", refusal.reason)
            writer.write(_refusal(refusal.status))
            await writer.drain()
            return
        self.forwarded += 1
        up_reader, up_writer = upstream
        try:
            to_client = (
                self._pipe(up_reader, writer) if head.method == "CONNECT" else self._relay_response(up_reader, writer)
            )
            await _first_to_finish(self._pipe(reader, up_writer), to_client)
        finally:
            up_writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await up_writer.wait_closed()

    async def _open(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Resolve once, check every address, connect to a checked address (never to the name)."""
        try:
            addresses = await resolve_public(host, port, self._guard)
        except BlockedAddress as exc:
            # Also a name that does not resolve: a page must not learn which internal names exist either.
            raise _Refused(_FORBIDDEN, "no public address") from exc
        for address in addresses:
            if self.is_machinery(ipaddress.ip_address(address), port):
                raise _Refused(_FORBIDDEN, "capture machinery port")
        for address in addresses:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=MAX_HEAD_BYTES), self._connect_timeout
                )
            except (OSError, TimeoutError):
                continue
        raise _Refused(_BAD_GATEWAY, "connection to the origin failed")

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await asyncio.wait_for(source.read(_CHUNK), self._idle_timeout):
            sink.write(data)
            await sink.drain()

    async def _relay_response(self, upstream: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        # Rewrite the response head so the browser does not reuse this connection for another host:
        # each forwarded connection carries exactly one checked request.
        while True:
            raw = await asyncio.wait_for(upstream.readuntil(b"\r\n\r\n"), self._idle_timeout)
            status_line, _, rest = raw.partition(b"\r\n")
            parts = status_line.split(b" ", 2)
            interim = len(parts) > 1 and parts[1].startswith(b"1") and parts[1] != b"101"
            if interim:
                client.write(raw)
                continue
            lines = [line for line in rest.split(b"\r\n") if line]
            kept = [
                line for line in lines if line.split(b":", 1)[0].strip().lower().decode("latin-1") not in _HOP_BY_HOP
            ]
            client.write(b"\r\n".join([status_line, *kept, b"Connection: close", b"", b""]))
            break
        await self._pipe(upstream, client)


def _bound_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except BaseException:
        listener.close()
        raise
    return listener


def _on_this_machine(address: IPAddress) -> bool:
    """Loopback, unspecified (which reaches this machine), or an address of one of its interfaces."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return True
    # Binding succeeds exactly for this machine's own addresses: no interface list to keep up to date.
    family = socket.AF_INET6 if isinstance(address, ipaddress.IPv6Address) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError as exc:
            return exc.errno != errno.EADDRNOTAVAIL  # any other failure: assume ours, refuse
    return True


def _url(host: str, port: int) -> str:
    host = host.strip("[]")
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _refusal(status: str) -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()


async def _first_to_finish(*coroutines: Coroutine[Any, Any, None]) -> None:
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.exception()  # retrieved, so an error in one direction is not logged as "never retrieved"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _parse_head(raw: bytes) -> _Head:
    lines = [line for line in raw.decode("latin-1").split("\r\n") if line]
    if not lines:
        raise _Refused(_BAD_REQUEST, "empty request")
    request_line, *header_lines = lines
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _Refused(_BAD_REQUEST, "malformed request line")
    headers: list[tuple[str, str]] = []
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _Refused(_BAD_REQUEST, "malformed header")
        headers.append((name, value.strip()))
    return _Head(parts[0], parts[1], parts[2], headers)


def _authority(target: str) -> tuple[str, int]:
    try:
        parts = urlsplit(f"//{target}")
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise _Refused(_BAD_REQUEST, "malformed CONNECT target") from exc
    if not host or port is None or parts.path or parts.username is not None:
        raise _Refused(_BAD_REQUEST, "malformed CONNECT target")
    return host, port


def _origin_request(head: _Head) -> tuple[str, int, bytes]:
    """Check an absolute-form http request and rewrite it for the origin server."""
    try:
        parts = urlsplit(head.target)
        host, port = parts.hostname, parts.port or 80
    except ValueError as exc:
        raise _Refused(_BAD_REQUEST, "malformed request target") from exc
    if parts.scheme != "http" or not host or parts.username is not None:
        raise _Refused(_BAD_REQUEST, "only absolute http:// requests are forwarded")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    listed = {
        token.strip().lower()
        for name, value in head.headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    lines = [f"{head.method} {path} {head.version}"]
    lines += [
        f"{name}: {value}"
        for name, value in head.headers
        if name.lower() not in _HOP_BY_HOP and name.lower() not in listed
    ]
    lines += ["Connection: close", "", ""]
    return host, port, "\r\n".join(lines).encode("latin-1")
