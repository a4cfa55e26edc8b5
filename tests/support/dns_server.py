"""A real DNS server on a loopback UDP port (dnslib's), answering from zones the test controls.

``DnsServer().records`` maps a lower-case name to its records, ``(type, value)`` pairs (``("CNAME",
"customers.img.example.net")``, ``("TXT", "token")``); a name in no record is NXDOMAIN. Names in ``servfail``
are answered SERVFAIL, names in ``silent`` are never answered (the client times out). Tests change all three
while it runs. ``address`` is what the ``dns_resolvers`` setting takes (``127.0.0.1:PORT``).
"""

from __future__ import annotations

import threading
from typing import Any, Self

from dnslib import CNAME, QTYPE, RCODE, RR, TXT, A, DNSError, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from loopback.ports import free_port

_RDATA: dict[str, Any] = {"CNAME": CNAME, "TXT": TXT, "A": A}


class _ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, owner: DnsServer) -> None:
        self._owner = owner

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        asked = QTYPE[request.q.qtype]
        with self._owner.lock:
            self._owner.asked.append((name, asked))
            if name in self._owner.silent:
                raise DNSError("dropped on purpose: the client is to time out")
            if name in self._owner.servfail:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            records = list(self._owner.records.get(name, ()))
        if not records:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for kind, value in records:
            if kind == asked or (kind == "CNAME" and asked != "CNAME"):
                target = value + "." if kind == "CNAME" else value
                reply.add_answer(RR(name + ".", getattr(QTYPE, kind), rdata=_RDATA[kind](target), ttl=1))
        return reply


class DnsServer:
    def __init__(self) -> None:
        self.port = free_port("127.0.0.1")
        self.lock = threading.Lock()
        self.records: dict[str, list[tuple[str, str]]] = {}
        self.servfail: set[str] = set()
        self.silent: set[str] = set()
        self.asked: list[tuple[str, str]] = []
        self._server = DNSServer(
            _ZoneResolver(self),
            port=self.port,
            address="127.0.0.1",
            logger=DNSLogger("-recv,-send,-request,-reply,-truncated,-error,-data"),
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set(self, name: str, *records: tuple[str, str]) -> None:
        with self.lock:
            self.records[name] = list(records)

    def start(self) -> Self:
        self._server.start_thread()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._server.server.server_close()
