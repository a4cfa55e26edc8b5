"""Custom domains: the ``Domain`` record, its states, and the ``DomainStore`` protocol (``store.domains``).

A workspace binds a hostname (``img.customer.com``) so that requests with that Host are its images, with the
whole path as the key. The hostname is stored normalised (``gateway.domains.normalise``) and is the record's
identity: one hostname belongs to at most one workspace at a time (``DomainTaken``).

States::

    pending  ──check ok──>  verified  ──N failed re-checks──>  failed  ──check ok──> verified
       │                       │                                  │
       └──────── remove ───────┴──────────────┬───────────────────┘
                                              v
                                           removed   (kept for its history; the hostname is free again)

Only ``verified`` is routed. ``reason`` says, in words for the customer, why the last check did not verify
(empty once it did); ``failures`` counts the checks in a row that found the DNS records wrong.

Semantics every implementation keeps (``tests/gateway/accounts/domains_contract.py``):

- ``add`` refuses a hostname another workspace holds in any state but ``removed`` (``DomainTaken``), a
  workspace that does not exist (``WorkspaceMissing``), and one more domain than ``limit`` counting the
  workspace's domains that are not removed (``DomainLimitReached``); all three checked in the write's own
  transaction. Adding a hostname the same workspace already holds answers the stored record unchanged.
  Adding over a ``removed`` record starts it afresh (new token, ``pending``).
- ``claim_due`` hands each due domain to exactly one caller across processes: it sets ``checked_at`` to
  ``now`` in the same transaction that selects it, so two workers re-checking at once never check one twice.
- Deleting a workspace deletes its domains.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

PENDING = "pending"
VERIFIED = "verified"
FAILED = "failed"
REMOVED = "removed"
DOMAIN_STATES = (PENDING, VERIFIED, FAILED, REMOVED)
# The states a domain is re-checked in by the background job (a removed one is history).
CHECKED_STATES = (PENDING, VERIFIED, FAILED)


def new_token() -> str:
    """A verification token for the TXT record: 24 random bytes, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class Domain:
    hostname: str
    namespace: str
    state: str = PENDING
    # Why the last check did not verify, for the customer ("the CNAME points at other.example, not …").
    reason: str = ""
    # What the TXT record ``_imgate-challenge.<hostname>`` must hold (for apex domains without a CNAME).
    token: str = ""
    created_at: float = 0.0
    # When the last check started (0: never checked).
    checked_at: float = 0.0
    # Checks in a row that found the records wrong; reset by a check that verifies.
    failures: int = 0

    def __post_init__(self) -> None:
        if self.state not in DOMAIN_STATES:
            raise ValueError(f"domain state must be one of {', '.join(DOMAIN_STATES)}")
        if self.failures < 0:
            raise ValueError("failures must be 0 or more")

    @property
    def routed(self) -> bool:
        return self.state == VERIFIED


class DomainTaken(Exception):
    def __init__(self, hostname: str) -> None:
        # The other workspace is not named: that would tell anyone who serves images on which hostname.
        super().__init__(f"{hostname} is already bound to another workspace")
        self.hostname = hostname


class DomainLimitReached(Exception):
    def __init__(self, namespace: str, limit: int) -> None:
        super().__init__(f"workspace {namespace} has its plan's {limit} custom domain(s) already")
        self.namespace = namespace
        self.limit = limit


class DomainStore(Protocol):
    def add(self, domain: Domain, limit: int) -> Domain:
        """Store a new ``pending`` domain (see the module docstring for what is refused); its ``created_at``
        is set here."""
        ...

    def get(self, hostname: str) -> Domain | None:
        """The record of ``hostname`` in any state (a removed one too), or None."""
        ...

    def in_workspace(self, namespace: str) -> list[Domain]:
        """The workspace's domains that are not removed, by hostname."""
        ...

    def save_check(self, domain: Domain) -> Domain | None:
        """Write a check's result (``state``, ``reason``, ``failures``, ``checked_at``) unless the domain was
        removed or re-added meanwhile (another token) or a check that started later was saved (a later
        ``checked_at``): then None, and nothing is written."""
        ...

    def remove(self, namespace: str, hostname: str) -> Domain | None:
        """Mark the workspace's domain ``removed``; None when it holds no such domain (or it is removed)."""
        ...

    def claim_due(self, now: float, pending_before: float, checked_before: float, limit: int) -> list[Domain]:
        """At most ``limit`` domains due for a re-check (pending ones last checked before ``pending_before``,
        verified and failed ones before ``checked_before``), oldest check first, each with ``checked_at``
        set to ``now`` so no other caller claims it."""
        ...
