"""Signed image URLs: verified in the request path's gate step, before any planning, on every request.

A workspace with ``signing = "required"`` answers only URLs carrying a valid ``s``, the signature, as the
LAST query parameter. Two schemes, told apart by the signature's length:

- ``imgate`` (64 hex digits): ``s = HMAC-SHA256(secret, path + "?" + query)`` as hex, where ``path`` is the
  raw, still-encoded path as sent and ``query`` the raw query without ``s``, whose items (``name=value``
  as sent) must be in sorted order as text. ``expires`` (unix seconds) is an ordinary parameter, so it is
  signed: past it, ``403 SIGNATURE_EXPIRED``. ``sign_url`` writes such URLs.
- ``imgix`` (32 hex digits): imgix's scheme, so imgix's libraries sign with their ``secureURLToken``:
  ``s = MD5(token + path + "?" + query)`` (just ``token + path`` without a query), over the raw path and
  query exactly as sent. MD5 is accepted only for this compatibility; prefer the HMAC scheme.

Both work on the bytes as sent, never on a decoded form: two spellings of a URL are two texts, so a
re-encoded, reordered, added or removed parameter never verifies (and MD5's length extension cannot turn
one decoded text into another). Every failure is ``403 BAD_SIGNATURE`` with one message, so a caller learns
nothing about which part was wrong. Comparisons are constant-time (``hmac.compare_digest``) against every
active secret of the scheme (two while a secret is being rotated).

``s`` and ``expires`` are no transform parameters and are left out of the cache key: a signed URL and the
same URL unsigned share one cache entry. With ``signing = "off"`` neither is read.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.errors import BadSignature, SignatureExpired, ValidationError

SIGNATURE = "s"
EXPIRES = "expires"
SIGNING_PARAMETERS: frozenset[str] = frozenset({SIGNATURE, EXPIRES})

_SIGNATURE_AT_END = re.compile(rb"(?:^|&)s=([0-9a-f]{32}|[0-9a-f]{64})$")
_EXPIRES_ITEM = re.compile(rb"(?:^|&)expires=([^&]*)")
_UNIX_TIME = re.compile(r"[0-9]{1,12}")
_KEPT = 4096
_KEPT_URLS = 16384
_Version = tuple[str, int, float]


def _version(workspace: Workspace) -> _Version:
    # Revision and creation time name one version of one workspace (a namespace deleted and created again
    # restarts its revisions, never its creation time). Any change to its secrets is a new revision.
    return (workspace.namespace, workspace.revision, workspace.created_at)


@dataclass(frozen=True, slots=True)
class OpenedKeys:
    """A workspace's active secrets in clear, per scheme (kept in memory only)."""

    imgate: tuple[bytes, ...]
    imgix: tuple[bytes, ...]


def open_keys(workspace: Workspace, secrets: SecretBox) -> OpenedKeys:
    opened: dict[str, list[bytes]] = {"imgate": [], "imgix": []}
    for key in workspace.signing_keys:
        opened[key.scheme].append(secrets.open(key.secret_sealed).encode("utf-8"))
    return OpenedKeys(tuple(opened["imgate"]), tuple(opened["imgix"]))


def verify(keys: OpenedKeys, raw_path: bytes, query: bytes, now: float) -> None:
    """Return when ``query`` carries a valid, unexpired signature of ``raw_path?query``; else raise."""
    _check_expiry(signed_until(keys, raw_path, query), now)


def signed_until(keys: OpenedKeys, raw_path: bytes, query: bytes) -> int | None:
    """The ``expires`` of a validly signed URL (None: it never expires); ``BadSignature`` otherwise."""
    match = _SIGNATURE_AT_END.search(query)
    if match is None:
        raise BadSignature()
    signature = match[1].decode("ascii")
    rest = query[: match.start()]
    text = raw_path + b"?" + rest if rest else raw_path
    if len(signature) == 32:
        good = any(
            hmac.compare_digest(hashlib.md5(key + text, usedforsecurity=False).hexdigest(), signature)
            for key in keys.imgix
        )
    else:
        items = rest.split(b"&") if rest else []
        if items != sorted(items):
            raise BadSignature()
        good = any(hmac.compare_digest(hmac.digest(key, text, "sha256").hex(), signature) for key in keys.imgate)
    if not good:
        raise BadSignature()
    return _expires(rest)


def _expires(signed_query: bytes) -> int | None:
    found = _EXPIRES_ITEM.findall(signed_query)
    if not found:
        return None
    # A second expires is refused later as a repeated parameter; the earliest one counts until then.
    times = [unquote(raw.decode("latin-1")) for raw in found]
    if not all(_UNIX_TIME.fullmatch(text) for text in times):
        raise ValidationError("expires: must be a unix time in whole seconds")
    return min(int(text) for text in times)


def _check_expiry(expires: int | None, now: float) -> None:
    if expires is not None and now >= expires:
        raise SignatureExpired()


class SignatureGate:
    """The gate step's signature check: opens each workspace revision's secrets once, and remembers the URLs
    it verified, so a hit pays one dict lookup and a clock reading (a miss one HMAC or MD5 per secret)."""

    def __init__(self, secrets: SecretBox, clock: Callable[[], float] = time.time) -> None:
        self._secrets = secrets
        self._clock = clock
        self._opened: dict[_Version, OpenedKeys] = {}
        # (workspace version, raw path, raw query) -> its expires: the same bytes under the same secrets
        # always get the same verdict. Only good signatures are kept, so junk cannot fill it.
        self._verified: dict[tuple[_Version, bytes, bytes], int | None] = {}

    def check(self, workspace: Workspace, raw_path: bytes, query: bytes) -> None:
        if workspace.signing != "required":
            return
        version = _version(workspace)
        url = (version, raw_path, query)
        try:
            expires = self._verified[url]
        except KeyError:
            expires = signed_until(self._keys(version, workspace), raw_path, query)
            if len(self._verified) >= _KEPT_URLS:
                self._verified.clear()
            self._verified[url] = expires
        _check_expiry(expires, self._clock())

    def _keys(self, version: _Version, workspace: Workspace) -> OpenedKeys:
        keys = self._opened.get(version)
        if keys is None:
            if len(self._opened) >= _KEPT:
                self._opened.clear()
            keys = self._opened[version] = open_keys(workspace, self._secrets)
        return keys


def sign_url(
    path: str, params: Iterable[tuple[str, str]], secret: str, *, expires: int | None = None, scheme: str = "imgate"
) -> str:
    """``path?query&s=…`` signed with ``secret``: ``path`` as it will be sent (already percent-encoded),
    parameters encoded here. The ``imgate`` scheme sorts the items; ``imgix`` keeps their order."""
    pairs = list(params)
    if expires is not None:
        pairs.append((EXPIRES, str(expires)))
    items = [f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs]
    if scheme == "imgate":
        items.sort()
    query = "&".join(items)
    text = (f"{path}?{query}" if query else path).encode("utf-8")
    key = secret.encode("utf-8")
    if scheme == "imgate":
        signature = hmac.new(key, text, hashlib.sha256).hexdigest()
    elif scheme == "imgix":
        signature = hashlib.md5(key + text, usedforsecurity=False).hexdigest()
    else:
        raise ValueError("scheme must be imgate or imgix")
    return f"{path}?{query}&s={signature}" if query else f"{path}?s={signature}"
