"""``parse_source_url``: every external URL (``?src=``, ``?capture=``, origin base URLs) in one normalised,
unambiguous form. No other parser of such URLs exists in the gateway: a second one that read a host or a path
differently (``faß.de`` as ``fass.de``, ``2130706433`` as ``127.0.0.1``) is how allowlists fall.

The normalised URL is what gets matched, fetched and hashed into the cache key, so those three can never
disagree about which resource is meant. Anything a parser could read two ways is refused, not repaired:

- only ``http`` and ``https``, written ``scheme://host[:port]``; no fragment (``#``), unless the caller
  asks for one (``allow_fragment``: a page to capture, where it is a single-page app's route);
- no userinfo (``https://cdn.example.com@evil.com``), no backslash anywhere, no whitespace or control
  characters, no ``%`` that is not followed by two hex digits;
- no IPv6 literal, no percent-encoding in the host, and numeric hosts only as canonical dotted quads
  (see ``gateway.policy.hosts``);
- no ``.`` or ``..`` path segment (nor ``..;x``), no percent-encoded dot, slash, backslash or control
  character in the path (``%2e``, ``%2f``, ``%5c``, ``%00``), including double-encoded ones (``%252e``);
- no percent-escape in the path that is not UTF-8 (``%c0%ae`` is an overlong ``.`` that some decoders still
  accept). The query is left as it is: it never takes part in matching, and origins with legacy-encoded
  query strings exist.

Normalisation: scheme and host lower case, host in ASCII (punycode), trailing dot and default port dropped,
an empty path becomes ``/``, an empty query is dropped. The path and query are kept byte for byte, except
that characters which may not appear raw in a URL (non-ASCII, ``"<>`{}|^[]``) are percent-encoded as UTF-8,
as a browser would before sending them; an allowed fragment keeps every printable ASCII character but
``"<>`` (encoded likewise) and a second ``#`` (refused). Fetch exactly ``SourceURL.url``: a client that
re-quotes it (yarl does) can only change how unreserved characters are spelled, never which resource is meant.

``InvalidSourceURL`` means the URL is malformed or confusing: the gateway answers 400 VALIDATION_ERROR. A
well-formed URL that no pattern allows is 403 SOURCE_NOT_ALLOWED (``gateway.policy.sources``), and the
address it resolves to is still checked by netguard on every connection.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from gateway.policy.hosts import InvalidHost, normalise_host

DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}
MAX_URL_LENGTH = 4096

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PORT = re.compile(r"[0-9]{1,5}")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Encoded dot, slash, backslash, percent-of-those and C0/DEL controls: each one is read differently by
# some server, proxy or framework between us and the file.
_ENCODED_CONFUSION = re.compile(r"%(2e|2f|5c|[01][0-9a-f]|7f)", re.IGNORECASE)
# Printable ASCII that may not appear raw in a path or query; encoded the way browsers do.
_ENCODE_ASCII = frozenset('"<>`{}|^[]')
# The fragment percent-encode set of the WHATWG URL standard: a single-page app's route keeps its brackets.
_FRAGMENT_ENCODE = frozenset('"<>`')
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_MAX_DECODE_ROUNDS = 4


class InvalidSourceURL(ValueError):
    """The URL is malformed or ambiguous (400). The message is safe: it never repeats the URL."""


@dataclass(frozen=True, slots=True)
class SourceURL:
    scheme: str
    host: str
    port: int
    path: str
    query: str = ""
    # Only when parsed with ``allow_fragment``; never sent to a server, but part of what a browser loads.
    fragment: str = ""

    @property
    def url(self) -> str:
        """The normalised URL: fetch this, and hash this (with the workspace) into the cache key."""
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        query = f"?{self.query}" if self.query else ""
        fragment = f"#{self.fragment}" if self.fragment else ""
        return f"{self.scheme}://{self.host}{port}{self.path}{query}{fragment}"

    @property
    def default_port(self) -> bool:
        return DEFAULT_PORTS[self.scheme] == self.port

    def path_segments(self) -> tuple[bytes, ...]:
        """Decoded path segments, for prefix matching; ``/a/b/`` is ``(b'a', b'b', b'')``."""
        return tuple(unquote_to_bytes(segment) for segment in self.path.split("/")[1:])

    def __str__(self) -> str:
        return self.url


def parse_source_url(raw: str, *, allow_fragment: bool = False) -> SourceURL:
    """Parse and normalise an external URL, or raise ``InvalidSourceURL`` (see the module docstring)."""
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidSourceURL("URL too long")
    _refuse_confusing_characters(raw, allow_fragment)
    raw, _, fragment = raw.partition("#")
    scheme_match = _SCHEME.match(raw)
    if scheme_match is None:
        raise InvalidSourceURL("must be an absolute http or https URL")
    scheme = scheme_match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidSourceURL("only http and https URLs are allowed")
    rest = raw[scheme_match.end() :]
    if not rest.startswith("//"):
        raise InvalidSourceURL("must be an absolute URL (scheme://host/path)")
    authority, path, query = _split(rest[2:])
    host, port = _parse_authority(authority, DEFAULT_PORTS[scheme])
    _refuse_confusing_path(path)
    return SourceURL(
        scheme=scheme,
        host=host,
        port=port,
        path=_encode(path) or "/",
        query=_encode(query),
        fragment=_encode(fragment, _FRAGMENT_ENCODE),
    )


def is_unsafe_segment(segment: str) -> bool:
    """True when one decoded path segment (a key appended to an HTTP origin's prefix) is, or becomes for a
    server that decodes again, reads ``;`` as a parameter or ``\\`` as ``/``, a dot segment or a separator;
    or holds NUL or a percent-escape that is not UTF-8. Such a key could resolve outside its prefix."""
    decoded = segment
    for _ in range(_MAX_DECODE_ROUNDS):
        if decoded.split(";", 1)[0] in (".", "..") or any(ch in decoded for ch in "/\\\x00"):
            return True
        try:
            once = unquote_to_bytes(decoded).decode("utf-8")
        except UnicodeError:  # not UTF-8 once decoded (or not encodable: a lone surrogate)
            return True
        if once == decoded:
            return False
        decoded = once
    return True


def _refuse_confusing_characters(raw: str, allow_fragment: bool) -> None:
    if "\\" in raw:
        raise InvalidSourceURL("backslashes are not allowed in the URL")
    if raw.count("#") > (1 if allow_fragment else 0):
        raise InvalidSourceURL(
            "a fragment may not contain '#'" if allow_fragment else "fragments (#) are not allowed in the URL"
        )
    if any(ch <= " " or ch == "\x7f" for ch in raw) or (
        not raw.isascii() and any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in raw)
    ):
        raise InvalidSourceURL("whitespace and control characters are not allowed in the URL")
    if _BAD_PERCENT.search(raw):
        raise InvalidSourceURL("'%' must be followed by two hex digits")


def _split(after_slashes: str) -> tuple[str, str, str]:
    end = min((i for i in (after_slashes.find("/"), after_slashes.find("?")) if i >= 0), default=-1)
    if end < 0:
        return after_slashes, "", ""
    authority, rest = after_slashes[:end], after_slashes[end:]
    path, _, query = rest.partition("?")
    return authority, path, query


def _parse_authority(authority: str, default_port: int) -> tuple[str, int]:
    if "@" in authority:
        raise InvalidSourceURL("credentials (user@) are not allowed in the URL")
    if authority.startswith("["):
        raise InvalidSourceURL("IPv6 address literals are not allowed; use a host name")
    if "%" in authority:
        raise InvalidSourceURL("percent-encoding is not allowed in the host")
    host_text, colon, port_text = authority.partition(":")
    port = default_port
    if colon:
        if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
            raise InvalidSourceURL("the port must be a number from 1 to 65535")
        port = int(port_text)
    try:
        return normalise_host(host_text), port
    except InvalidHost as exc:
        raise InvalidSourceURL(str(exc)) from exc


def _refuse_confusing_path(path: str) -> None:
    if _ENCODED_CONFUSION.search(path):
        raise InvalidSourceURL("encoded dots, slashes, backslashes or controls are not allowed in a path")
    for segment in path.split("/"):
        # Decode until stable: a server that decodes twice must not find a dot segment or a separator either.
        decoded = segment
        for _ in range(_MAX_DECODE_ROUNDS):
            if decoded.split(";", 1)[0] in (".", ".."):
                raise InvalidSourceURL("'.' and '..' path segments are not allowed")
            if _ENCODED_CONFUSION.search(decoded) or "/" in decoded or "\\" in decoded:
                raise InvalidSourceURL("double-encoded characters are not allowed in the path")
            try:
                once = unquote_to_bytes(decoded).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidSourceURL("percent-escapes in a path must encode UTF-8 text") from None
            if once == decoded:
                break
            decoded = once
        else:
            raise InvalidSourceURL("nested percent-encoding is not allowed in the path")


def _encode(part: str, encoded: frozenset[str] = _ENCODE_ASCII) -> str:
    if part.isascii() and not encoded.intersection(part):
        return part
    return "".join(ch if ch.isascii() and ch not in encoded else quote(ch, safe="") for ch in part)
