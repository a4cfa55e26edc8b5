"""A custom domain's hostname as stored and compared, and the hostnames a workspace may not bind.

Normal form: ``gateway.policy.hosts.normalise_host`` (lower case, no trailing dot, internationalised labels in
their ASCII form mapped with UTS #46, so ``Bücher.Example.`` and ``xn--bcher-kva.example`` are one hostname).
On top of that a custom domain must be a plain DNS name of at least two labels, and is refused when it is:

- an IP literal (an address has no DNS records to verify and no certificate Caddy would issue on demand);
- one of the gateway's own hosts (``public_hosts``) or the ``cname_target``: binding it would take the
  gateway's own host away from everyone;
- a bare public suffix (``com``, ``co.uk``, ``github.io``), by the Public Suffix List bundled with the
  ``publicsuffixlist`` package (read from the package, never fetched at run time): a registrable name is
  the smallest thing one customer can own.

Messages never repeat the input: they end up in logs.

``comparable_host`` is the one reading of a Host header value or a configured hostname that every comparison
uses (the gateway's own hosts, a custom domain's Host, Caddy's ask); ``bindable`` says, without a store read,
whether any custom domain could be stored under a name (the request path answers 404 at once when not).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from publicsuffixlist import PublicSuffixList

from gateway.policy.hosts import InvalidHost, is_ip_literal, normalise_host

_MAX_LENGTH = 253


class InvalidDomain(ValueError):
    """A hostname no workspace may bind; the message says why in words for the customer."""


@functools.cache
def _suffixes() -> PublicSuffixList:
    # The list bundled with the package, loaded once per process (~10 ms).
    return PublicSuffixList()


def normalise_domain(text: str, reserved: Iterable[str] = ()) -> str:
    """The stored form of a custom domain's hostname, or ``InvalidDomain``. ``reserved``: hosts no workspace
    may bind (the gateway's own hosts and the CNAME target), compared in normal form."""
    candidate = text.strip()
    if not candidate:
        raise InvalidDomain("give a hostname such as img.example.com")
    if _is_address(candidate):
        raise InvalidDomain("an IP address cannot be a custom domain: give a hostname")
    if any(char in candidate for char in "/:@?#[] \\"):
        raise InvalidDomain("give a hostname only: no scheme, port, path or address")
    if "*" in candidate:
        raise InvalidDomain("wildcard hostnames cannot be custom domains: add each hostname")
    try:
        host = normalise_host(candidate)
    except InvalidHost as exc:
        raise InvalidDomain(f"not a valid hostname ({exc})") from None
    if is_ip_literal(host):
        raise InvalidDomain("an IP address cannot be a custom domain: give a hostname")
    if "_" in host:
        raise InvalidDomain("a hostname for a certificate cannot hold '_'")
    labels = host.split(".")
    if len(labels) < 2 or len(host) > _MAX_LENGTH:
        raise InvalidDomain("give a full hostname such as img.example.com")
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        raise InvalidDomain("a hostname label cannot start or end with '-'")
    if host in {own for own in (comparable_host(h) for h in reserved) if own}:
        raise InvalidDomain("that hostname is the gateway's own")
    if _suffixes().is_public(host):
        raise InvalidDomain("that is a public suffix, which nobody owns: give a hostname under your domain")
    return host


def comparable_host(text: str) -> str:
    """``Img.Example.com.:443`` -> ``img.example.com``; ``[::1]:8080`` -> ``::1``; internationalised labels in
    their ASCII form. Text that is no valid hostname is only lower-cased: it then equals no stored name."""
    name = text.strip()
    if name.startswith("["):
        return name[1:].partition("]")[0].lower()
    if name.count(":") == 1:
        name = name.partition(":")[0]
    if ":" in name:  # an IPv6 address without brackets
        return name.lower()
    try:
        return normalise_host(name)
    except InvalidHost:
        return name.lower().rstrip(".")


def bindable(host: str) -> bool:
    """Whether a custom domain could be stored under ``host`` (in ``comparable_host`` form): False for an IP
    literal, a single label (``localhost``), and anything ``normalise_domain`` would refuse for its characters."""
    if ":" in host or "_" in host or "." not in host or len(host) > _MAX_LENGTH:
        return False
    try:
        if normalise_host(host) != host:
            return False
    except InvalidHost:
        return False
    return not is_ip_literal(host) and not any(
        label.startswith("-") or label.endswith("-") for label in host.split(".")
    )


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True
