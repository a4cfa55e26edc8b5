"""API keys for the management API: key material, the stored record, and issuing one.

A secret is ``imk_live_`` and 32 random bytes from ``secrets`` in base62 (43 characters, fixed width): 52
characters that survive copy and paste, shells, headers and double-click selection. The store keeps only its
SHA-256 (hex) and its first 12 characters, the prefix, which is shown afterwards as the key's label (it holds
3 random characters: enough to tell a workspace's keys apart, nowhere near enough to guess the rest).

SHA-256 without a salt or a slow hash is right here, unlike for passwords: the secret has 256 bits of
randomness, so there is nothing to brute-force, and a fast hash lets every request look its key up by an
index on the digest. The lookup is by digest; ``digests_match`` compares in constant time where a caller
compares a digest it holds.

The prefix is unique within a workspace (``issue_api_key`` draws again on the rare collision), so
"revoke acme imk_live_4Fq" names exactly one key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from gateway.accounts.models import validate_namespace

if TYPE_CHECKING:
    from gateway.accounts.store import AccountStore

KEY_PREFIX = "imk_live_"
PREFIX_LENGTH = 12
SCOPES = ("read", "write")

_SECRET_BYTES = 32
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ENCODED_LENGTH = 43  # 62**43 > 2**256: every 32-byte value fits
SECRET_LENGTH = len(KEY_PREFIX) + _ENCODED_LENGTH
_SECRET = re.compile(f"{KEY_PREFIX}[0-9A-Za-z]{{{_ENCODED_LENGTH}}}")
_PREFIX = re.compile(f"{KEY_PREFIX}[0-9A-Za-z]{{{PREFIX_LENGTH - len(KEY_PREFIX)}}}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"key_[0-9a-f]{20}")
_MAX_NAME = 64
_ISSUE_ATTEMPTS = 8


def new_api_key() -> tuple[str, str, str]:
    """``(secret, prefix, digest)`` of a new key. Show the secret once; store the other two."""
    number = int.from_bytes(secrets.token_bytes(_SECRET_BYTES), "big")
    digits = []
    for _ in range(_ENCODED_LENGTH):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    secret = KEY_PREFIX + "".join(reversed(digits))
    return secret, secret[:PREFIX_LENGTH], digest(secret)


def digest(secret: str) -> str:
    """The SHA-256 of a secret as 64 hex digits: what the store keeps and looks keys up by."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def digests_match(given: str, stored: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much of a digest matched."""
    return hmac.compare_digest(given.encode("ascii", "replace"), stored.encode("ascii", "replace"))


def looks_like_secret(text: str) -> bool:
    """True for the shape of a full secret. A 12-character prefix (the label) is not one."""
    return _SECRET.fullmatch(text) is not None


def new_key_id() -> str:
    return f"key_{secrets.token_hex(10)}"


def scope_allows(scope: str, needed: str) -> bool:
    """``write`` implies ``read``."""
    return scope == needed or (scope == "write" and needed == "read")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's stored record: everything except the secret, which is never stored."""

    key_id: str
    namespace: str
    name: str
    scope: str
    prefix: str
    sha256: str = ""
    created_at: float = 0.0
    last_used_at: float | None = None
    revoked_at: float | None = None

    def __post_init__(self) -> None:
        validate_namespace(self.namespace)
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError("a key id looks like key_ and 20 hex digits")
        check_key_name(self.name)
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"a key prefix is the first {PREFIX_LENGTH} characters of its secret")
        if not _DIGEST.fullmatch(self.sha256):
            raise ValueError("a key's sha256 is 64 lower-case hex digits")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, needed: str) -> bool:
        return not self.revoked and scope_allows(self.scope, needed)


def check_key_name(name: str) -> str:
    """A key's name is a label such as "Production": 1-64 printable characters, no surrounding spaces."""
    if not name or len(name) > _MAX_NAME or name != name.strip() or not name.isprintable():
        raise ValueError(f"a key name must be 1-{_MAX_NAME} printable characters without surrounding spaces")
    return name


@dataclass(frozen=True, slots=True)
class KeyUse:
    """Requests a key authenticated on one UTC day."""

    key_id: str
    day: date
    requests: int


def issue_api_key(store: AccountStore, namespace: str, name: str, scope: str = "read") -> tuple[str, ApiKey]:
    """Create a key: ``(secret, stored record)``. The secret exists only in the return value.

    Raises what ``AccountStore.create_api_key`` raises (``WorkspaceMissing``, ``ValueError`` for a bad name or
    scope); a prefix already used in the workspace is drawn again.
    """
    # Imported here: the store's module imports this one for the records.
    from gateway.accounts.store import KeyPrefixTaken

    for _ in range(_ISSUE_ATTEMPTS):
        secret, prefix, hashed = new_api_key()
        record = ApiKey(new_key_id(), namespace, name, scope, prefix, hashed)
        try:
            return secret, store.create_api_key(record)
        except KeyPrefixTaken:
            continue
    # 8 collisions in a row need ~238,000 keys in one workspace (3 random characters of prefix).
    raise RuntimeError("could not draw an unused key prefix; the workspace has too many keys")
