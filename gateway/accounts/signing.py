"""A workspace's URL signing settings: whether image URLs must be signed, and the secrets that sign them.

Two schemes (``gateway.policy.signing`` verifies both): ``imgate`` (HMAC-SHA256) and ``imgix`` (imgix's MD5
scheme, so imgix's own libraries sign with their ``secureURLToken``). Each scheme has at most two active
secrets, so a secret is rotated without a moment in which URLs signed with the previous one stop working.
Secrets are sealed with the gateway's Fernet key (``gateway.accounts.secrets``) like origin credentials; a
record never holds one in clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SIGNING_MODES = ("off", "required")
SCHEMES = ("imgate", "imgix")
KEYS_PER_SCHEME = 2
KEY_ID_RE = re.compile(r"^[0-9a-f]{8}$")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One active secret: ``key_id`` names it in listings (random, no part of the secret)."""

    key_id: str
    scheme: str
    secret_sealed: str = field(repr=False)
    created_at: float = 0.0

    def __post_init__(self) -> None:
        if not KEY_ID_RE.fullmatch(self.key_id):
            raise ValueError("a signing key id is 8 hexadecimal digits")
        if self.scheme not in SCHEMES:
            raise ValueError(f"signing scheme must be one of {', '.join(SCHEMES)}")
        if not self.secret_sealed:
            raise ValueError("a signing key needs its sealed secret")

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "scheme": self.scheme,
            "secret_sealed": self.secret_sealed,
            "created_at": self.created_at,
        }


def check_signing(mode: str, keys: tuple[SigningKey, ...]) -> None:
    """``ValueError`` for a mode that is none, more than two secrets of a scheme, or a repeated key id."""
    if mode not in SIGNING_MODES:
        raise ValueError(f"signing must be one of {', '.join(SIGNING_MODES)}")
    for scheme in SCHEMES:
        if sum(1 for key in keys if key.scheme == scheme) > KEYS_PER_SCHEME:
            raise ValueError(f"at most {KEYS_PER_SCHEME} active {scheme} signing secrets")
    if len({key.key_id for key in keys}) != len(keys):
        raise ValueError("signing key ids must differ")
    if mode == "required" and not keys:
        raise ValueError("signing cannot be required before a signing secret exists (create one first)")


def keys_from_json(items: list[dict[str, object]]) -> tuple[SigningKey, ...]:
    return tuple(
        SigningKey(str(item["key_id"]), str(item["scheme"]), str(item["secret_sealed"]), float(str(item["created_at"])))
        for item in items
    )
