"""Allowed external sources for ``?src=``: which normalised ``SourceURL`` a workspace may fetch.

Pattern grammar, one per list entry::

    *                                   any host name on the scheme's default port (never an IP literal)
    cdn.example.com                     that host, http or https, default port
    *.example.com                       every subdomain at any depth, never example.com itself
    https://cdn.example.com             https only
    cdn.example.com:8443                that port (either scheme); without a port only the default one
    cdn.example.com/images/             paths under /images, on segment boundaries
    https://*.example.com:8443/a/b      all of the above together

The path prefix is compared segment by segment after percent-decoding, so ``/images/`` allows
``/images/a.jpg`` and ``/%69mages/a.jpg`` (the same file) but not ``/images-evil/a.jpg`` or ``/imagesx``.
Without a port a pattern allows only the scheme's default port, so ``*`` cannot be used to reach every
service on every public host. A match only says the URL is allowed; netguard still checks the address of
every connection, so no list, ``*`` included, ever reaches an internal address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from gateway.policy.hosts import HostPattern, InvalidPattern, pattern_texts
from gateway.policy.urls import DEFAULT_PORTS, SourceURL

_PORT = re.compile(r"[0-9]{1,5}")
_REFUSED_IN_PATTERN = re.compile(r"[@?#\\\s%]")


@dataclass(frozen=True, slots=True)
class SourcePattern:
    host: HostPattern
    scheme: str | None = None
    port: int | None = None
    path: tuple[bytes, ...] = ()

    @classmethod
    def compile(cls, text: str) -> SourcePattern:
        pattern = text.strip()
        if pattern == "*":
            return cls(host=HostPattern.compile("*"))
        if _REFUSED_IN_PATTERN.search(pattern):
            raise InvalidPattern(text, "'@', '?', '#', '%', '\\' and spaces are not allowed in a pattern")
        scheme: str | None = None
        if "://" in pattern:
            scheme_text, _, pattern = pattern.partition("://")
            scheme = scheme_text.lower()
            if scheme not in DEFAULT_PORTS:
                raise InvalidPattern(text, "the scheme must be http or https")
        authority, slash, path_text = pattern.partition("/")
        host_text, colon, port_text = authority.partition(":")
        if host_text == "*":
            raise InvalidPattern(text, "'*' stands alone; use '*.example.com' to add a scheme, port or path")
        try:
            host = HostPattern.compile(host_text)
        except InvalidPattern as exc:
            raise InvalidPattern(text, exc.reason) from exc
        port: int | None = None
        if colon:
            if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
                raise InvalidPattern(text, "the port must be a number from 1 to 65535")
            port = int(port_text)
        return cls(host=host, scheme=scheme, port=port, path=_compile_path(text, path_text) if slash else ())

    def matches(self, url: SourceURL) -> bool:
        if self.scheme is not None and url.scheme != self.scheme:
            return False
        if url.port != (DEFAULT_PORTS[url.scheme] if self.port is None else self.port):
            return False
        if not self.host.matches(url.host):
            return False
        return not self.path or url.path_segments()[: len(self.path)] == self.path


def _compile_path(text: str, path_text: str) -> tuple[bytes, ...]:
    segments = path_text.split("/")
    if segments[-1] == "":
        segments.pop()  # 'images/' and 'images' mean the same folder
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidPattern(text, "empty, '.' and '..' path segments are not allowed")
        if "*" in segment:
            # A prefix already covers everything below it; a '*' here would read like a glob it is not.
            raise InvalidPattern(text, "a path is a prefix and takes no '*' ('cdn.example.com/images/')")
    return tuple(unquote_to_bytes(segment) for segment in segments)


@dataclass(frozen=True, slots=True)
class SourceAllowlist:
    """A compiled list of source patterns; an empty list allows nothing."""

    patterns: tuple[SourcePattern, ...] = ()

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> SourceAllowlist:
        return cls(tuple(dict.fromkeys(SourcePattern.compile(text) for text in pattern_texts(patterns))))

    def allows(self, url: SourceURL) -> bool:
        return any(pattern.matches(url) for pattern in self.patterns)
