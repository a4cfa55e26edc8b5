"""Host names as the allowlists compare them, and host patterns: ``example.com``, ``*.example.com``, ``*``.

Every host, typed by a workspace owner or taken from a request, goes through the same
``normalise_host`` so that both sides compare as plain strings:

- lower case, and the trailing dot of a fully qualified name dropped (``Example.COM.`` is ``example.com``);
- internationalised labels in their ASCII (punycode) form, mapped with UTS #46 as browsers do, so
  ``bücher.example``, ``BÜCHER.example`` and ``xn--bcher-kva.example`` are one host;
- a host whose last label is a number is an IPv4 address (as the WHATWG URL parser reads it) and is accepted
  only in canonical dotted-quad form: ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are refused
  rather than guessed at, because a matcher and a fetcher that read them differently is how allowlists fall.

Patterns: ``*`` is any host name (never an IP literal: an address passes only when a pattern names it
exactly); ``*.example.com`` is every subdomain at any depth and never the bare ``example.com``; anything else
is one exact host. A wildcard must sit over at least two labels (``*.com`` is refused as a likely mistake).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import idna

_MAX_HOST_LENGTH = 253
# Letters, digits, hyphen, and underscore (legacy bucket names carry it; browsers accept it).
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
# WHATWG: a host "ends in a number" (decimal or 0x-hex last label) and is then read as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_CANONICAL_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")


class InvalidHost(ValueError):
    """Not a host name or a canonical IPv4 address. The message never repeats the input."""


class InvalidPattern(ValueError):
    """An allowlist pattern that cannot be compiled; the message names the pattern for its owner."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r}: {reason}")
        self.pattern = pattern
        self.reason = reason


def normalise_host(text: str) -> str:
    """Return the comparable form of a host name or dotted-quad IPv4 address, or raise ``InvalidHost``."""
    host = text if text.isascii() else _to_ascii(text)
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise InvalidHost("empty host")
    if len(host) > _MAX_HOST_LENGTH:
        raise InvalidHost("host name too long")
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        if not _is_canonical_ipv4(labels):
            raise InvalidHost("a numeric host must be a canonical dotted-quad IPv4 address")
        return host
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidHost("invalid host name")
    return host


def is_ip_literal(host: str) -> bool:
    """True for a normalised IPv4 host: after ``normalise_host`` only addresses end in a numeric label."""
    return host.rpartition(".")[2].isdigit()


def _to_ascii(text: str) -> str:
    try:
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
        return ".".join(_label_to_ascii(label) for label in mapped.split("."))
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidHost("invalid internationalised host name") from exc


def _label_to_ascii(label: str) -> str:
    # ASCII labels are left for our own, stricter check; only Unicode ones need punycode.
    return label if label.isascii() else idna.alabel(label).decode("ascii")


def _is_canonical_ipv4(labels: list[str]) -> bool:
    return len(labels) == 4 and all(
        _CANONICAL_OCTET.fullmatch(label) is not None and int(label) <= 255 for label in labels
    )


@dataclass(frozen=True, slots=True)
class HostPattern:
    """One compiled host pattern. ``host`` is the exact host, or the base domain of a wildcard."""

    host: str
    subdomains: bool = False
    any_host: bool = False

    @classmethod
    def compile(cls, text: str) -> HostPattern:
        pattern = text.strip()
        if pattern == "*":
            return cls(host="", any_host=True)
        wildcard = pattern.startswith("*.")
        base = pattern[2:] if wildcard else pattern
        if "*" in base:
            raise InvalidPattern(text, "'*' is allowed only alone or as the first label ('*.example.com')")
        try:
            host = normalise_host(base)
        except InvalidHost as exc:
            raise InvalidPattern(text, str(exc)) from exc
        if wildcard and is_ip_literal(host):
            raise InvalidPattern(text, "a wildcard cannot cover an IP address")
        if wildcard and "." not in host:
            raise InvalidPattern(text, "a wildcard must cover a domain of at least two labels")
        return cls(host=host, subdomains=wildcard)

    def matches(self, host: str) -> bool:
        """``host`` must already be normalised (see ``normalise_host``)."""
        if self.any_host:
            return not is_ip_literal(host)
        if self.subdomains:
            # The leading dot is the label boundary: 'badexample.com' and 'example.com' both fail.
            return host.endswith("." + self.host)
        return host == self.host

    def __str__(self) -> str:
        if self.any_host:
            return "*"
        return f"*.{self.host}" if self.subdomains else self.host


def pattern_texts(patterns: Iterable[str]) -> list[str]:
    # A bare string is iterable too; taking it letter by letter would compile nonsense quietly.
    if isinstance(patterns, str):
        raise TypeError("patterns must be a list of strings, not one string")
    return list(patterns)
