"""People: users (one per email address) and their memberships of workspaces with a role.

An email address is the sign-in identity (one-time codes go to it), so every address is stored and compared
in one normal form, ``normalise_email``:

- surrounding white space stripped, Unicode in NFC;
- the domain lower-cased and in its ASCII (punycode) form, with the same UTS #46 mapping the allowlists use
  (``gateway.policy.hosts.normalise_host``): ``bücher.example`` and ``xn--bcher-kva.example`` are one domain;
- the local part lower-cased too. RFC 5321 lets a mail server treat ``Alice`` and ``alice`` as two mailboxes,
  but no mainstream provider does, and people type their address in varying case. Kept apart, the two
  spellings would be two accounts fed by one mailbox: a second account its owner never meant to create,
  and an invitation to one spelling that the other cannot accept. Merging them costs only a mail system
  that really distinguishes case, which nobody runs for sign-in addresses;
- a domain of at least two labels, letters, digits and inner hyphens only;
- no quoted local parts, comments or address literals (``[127.0.0.1]``): valid in RFC 5322, never seen in a
  sign-up, and each one a parsing difference between us and a mail server.

A workspace has members, each an ``owner`` or a ``member``; a user can belong to several workspaces. The store
refuses to remove or demote a workspace's last owner (``LastOwner``), so a workspace with owners keeps one.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from gateway.accounts.models import validate_namespace
from gateway.policy.hosts import InvalidHost, is_ip_literal, normalise_host

ROLES = ("owner", "member")

_MAX_EMAIL = 254  # RFC 5321's limit on a forward path, less the angle brackets
_MAX_LOCAL_BYTES = 64
# RFC 5322 dot-atom: atext characters in dot-separated runs; RFC 6531 adds any non-ASCII character.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\u0080-\U0010ffff"
_LOCAL_PART = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*")
# Mail domains are host names proper: letters, digits and inner hyphens (no underscores, no edge hyphens).
_MAIL_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_USER_ID = re.compile(r"usr_[0-9a-f]{20}")


class InvalidEmail(ValueError):
    """Not an address we accept. The message never repeats the input."""


def normalise_email(text: str) -> str:
    """The stored, compared form of an email address, or ``InvalidEmail``."""
    email = unicodedata.normalize("NFC", text.strip())
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("an email address needs a name, an @ and a domain")
    if not _LOCAL_PART.fullmatch(local) or any(unicodedata.category(char)[0] in "CZ" for char in local):
        raise InvalidEmail("the part of the email address before @ has characters that are not allowed")
    # Lower-casing can decompose a character (U+0130 becomes i + a combining dot): back to NFC after it.
    local = unicodedata.normalize("NFC", local.lower())
    if len(local.encode("utf-8")) > _MAX_LOCAL_BYTES:
        raise InvalidEmail("the part of the email address before @ is too long")
    try:
        host = normalise_host(domain)
    except InvalidHost:
        raise InvalidEmail("the domain of the email address is not a valid host name") from None
    if is_ip_literal(host) or "." not in host or not all(map(_MAIL_LABEL.fullmatch, host.split("."))):
        raise InvalidEmail("the domain of the email address must be a domain name such as example.com")
    normal = f"{local}@{host}"
    if len(normal) > _MAX_EMAIL:
        raise InvalidEmail("the email address is too long")
    return normal


def new_user_id() -> str:
    """Random, so an id says nothing about how many users there are or when one signed up."""
    return f"usr_{secrets.token_hex(10)}"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    # Always in normal form: the store normalises, and a record holding another form is refused.
    email: str
    created_at: float = 0.0
    last_sign_in_at: float | None = None

    def __post_init__(self) -> None:
        if not _USER_ID.fullmatch(self.user_id):
            raise ValueError("a user id looks like usr_ and 20 hex digits")
        if normalise_email(self.email) != self.email:
            raise InvalidEmail("a user's email address must be stored in normal form (see normalise_email)")


@dataclass(frozen=True, slots=True)
class Membership:
    namespace: str
    user_id: str
    role: str = "member"

    def __post_init__(self) -> None:
        validate_namespace(self.namespace)
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"
