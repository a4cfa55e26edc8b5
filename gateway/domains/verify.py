"""The DNS check of a custom domain, with dnspython: proof that names the workspace, in a CNAME or a TXT record.

A CNAME to the operator's shared ``cname_target`` would prove only that the name points at the gateway, not
which workspace may have it (anyone can claim any name), so both proofs carry the claim's own token:

- the CNAME chain (``img.customer.com`` -> ``…`` -> ``<token>.customers.img.example.net``) reaches the claim's
  own target, ``<token>.<cname_target>`` (``domain_cname_target``), followed one CNAME query at a time (at most
  ``MAX_HOPS``), so the target itself need not resolve and a loop ends; the operator's DNS answers every name
  under ``cname_target`` with a wildcard. This is the way for a subdomain: one record does both jobs;
- or, for an apex domain that cannot carry a CNAME, a TXT record ``_imgate-challenge.<hostname>`` holds the
  token.

Queries go to the ``dns_resolvers`` setting (``host:port`` each) or, when it is empty, to the system's
resolvers (``/etc/resolv.conf``), each query bounded by ``dns_timeout``. Nothing here raises for a DNS answer:
the ``Verdict`` says verified, wrong (the records say something else: a definitive reason for the customer),
or unknown (a timeout, SERVFAIL, no usable resolver: a reason that says the check will be tried again).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

CHALLENGE_LABEL = "_imgate-challenge"
MAX_HOPS = 8


@dataclass(frozen=True, slots=True)
class Verdict:
    verified: bool
    # True when DNS could not answer (timeout, SERVFAIL): nothing is known about the records yet.
    unknown: bool = False
    reason: str = ""


def challenge_name(hostname: str) -> str:
    return f"{CHALLENGE_LABEL}.{hostname}"


def domain_cname_target(cname_target: str, token: str) -> str:
    """The CNAME target of one claim: its token as a label under the operator's ``cname_target``."""
    base = cname_target.strip().lower().rstrip(".")
    return f"{token.lower()}.{base}" if base and token else ""


def parse_resolvers(entries: Sequence[str]) -> list[tuple[str, int]]:
    """``host:port`` entries (``127.0.0.1:5353``, ``[::1]:53``, or an address alone for port 53) as pairs;
    ``ValueError`` naming the entry otherwise."""
    found = []
    for entry in entries:
        text = entry.strip()
        host, port = text, "53"
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif text.count(":") == 1:
            host, port = text.split(":")
        try:
            ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            raise ValueError(f"{entry!r} is not address:port") from None
        if not 0 < number < 65536:
            raise ValueError(f"{entry!r}: the port must be 1-65535")
        found.append((host, number))
    return found


class _Unknown(Exception):
    """DNS gave no answer to one query; the message is the reason shown to the customer."""


class DomainVerifier:
    def __init__(self, cname_target: str, resolvers: Sequence[str] = (), timeout: float = 3.0) -> None:
        self.cname_target = cname_target.strip().lower().rstrip(".")
        self._resolvers = parse_resolvers(resolvers)
        self._timeout = timeout

    def _resolver(self) -> dns.asyncresolver.Resolver:
        # One per check: a resolver keeps no state worth sharing, and a fresh one never caches an answer of a
        # record the customer has just fixed.
        if self._resolvers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in self._resolvers]
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.timeout = self._timeout
        resolver.lifetime = self._timeout
        return resolver

    async def check(self, hostname: str, token: str) -> Verdict:
        resolver = self._resolver()
        cname_reason = ""
        unknown = ""
        target = domain_cname_target(self.cname_target, token)
        try:
            reached, cname_reason = await self._follow(resolver, hostname, target)
            if reached:
                return Verdict(True)
        except _Unknown as exc:
            unknown = str(exc)
        try:
            if await self._has_token(resolver, hostname, token):
                return Verdict(True)
        except _Unknown as exc:
            unknown = unknown or str(exc)
        if unknown:
            return Verdict(False, unknown=True, reason=f"{unknown}; the check will be tried again")
        shown = target or "the gateway's CNAME target"
        txt = f"no TXT record {challenge_name(hostname)} with this domain's token"
        return Verdict(False, reason=f"{cname_reason or f'no CNAME to {shown}'}, and {txt}")

    async def _follow(self, resolver: dns.asyncresolver.Resolver, hostname: str, target: str) -> tuple[bool, str]:
        """(reached ``target``, why not in words)."""
        name = hostname
        seen = {name}
        for _ in range(MAX_HOPS):
            answer = await self._query(resolver, name, "CNAME")
            if answer is None:
                if name == hostname:
                    return False, ""
                if name == self.cname_target:
                    # The shared target proves the name points at the gateway, not whose it is.
                    return False, f"the CNAME of {hostname} points at {name}: it must point at {target}"
                return False, f"the CNAME chain of {hostname} ends at {name}, not {target}"
            if answer == "NXDOMAIN":
                if name == hostname:
                    return False, f"{hostname} does not exist in DNS (NXDOMAIN)"
                if name == self.cname_target:
                    return False, f"the CNAME of {hostname} points at {name}: it must point at {target}"
                return False, f"the CNAME chain of {hostname} ends at {name}, which does not exist"
            name = answer
            if target and name == target:
                return True, ""
            if name in seen:
                return False, f"the CNAME chain of {hostname} loops"
            seen.add(name)
        return False, f"the CNAME chain of {hostname} is longer than {MAX_HOPS} names"

    async def _has_token(self, resolver: dns.asyncresolver.Resolver, hostname: str, token: str) -> bool:
        if not token:
            return False
        name = challenge_name(hostname)
        try:
            answer = await resolver.resolve(name, "TXT", raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return False
        except dns.exception.Timeout:
            raise _Unknown(f"the DNS lookup of {name} timed out") from None
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN):
            raise _Unknown(f"the DNS server failed to answer for {name} (SERVFAIL)") from None
        except dns.exception.DNSException:
            raise _Unknown(f"the DNS lookup of {name} failed") from None
        for rdata in answer.rrset or ():
            if b"".join(rdata.strings).decode("ascii", "replace") == token:
                return True
        return False

    async def _query(self, resolver: dns.asyncresolver.Resolver, name: str, kind: str) -> str | None:
        """The CNAME's target of ``name``, None when it has none, "NXDOMAIN" when the name does not exist."""
        try:
            answer = await resolver.resolve(name, kind, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return "NXDOMAIN"
        except dns.exception.Timeout:
            raise _Unknown(f"the DNS lookup of {name} timed out") from None
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN):
            raise _Unknown(f"the DNS server failed to answer for {name} (SERVFAIL)") from None
        except dns.exception.DNSException:
            raise _Unknown(f"the DNS lookup of {name} failed") from None
        for rdata in answer.rrset or ():
            if rdata.rdtype == dns.rdatatype.CNAME:
                return str(rdata.target.to_text(omit_final_dot=True)).lower()
        return None
