"""Custom domains: the ``Domain`` record, its states, and the ``DomainStore`` protocol (``store.domains``).

A workspace binds a hostname (``img.customer.com``) so that requests with that Host are its images, with the
whole path as the key. The hostname is stored normalised (``gateway.domains.normalise``). A record is one
workspace's claim on a hostname, so several workspaces may claim one name while none has proved it: a claim
proves nothing (anyone can type any name), only the DNS proof naming the workspace does. The first claim to
VERIFY wins the name: at most one record per hostname is ``verified`` (the store refuses a second), and the
other workspaces' claims on it go to ``failed`` with the reason ``VERIFIED_ELSEWHERE``.

States::

    pending  ──check ok──>  verified  ──N failed re-checks──>  failed  ──check ok──> verified
       │                       │                                  │
       └──────── remove ───────┴──────────────┬───────────────────┘
                                              v
                                           removed   (kept for its history; the hostname is free again)

Only ``verified`` is routed. ``reason`` says, in words for the customer, why the last check did not verify
(empty once it did); ``failures`` counts the checks in a row that found the DNS records wrong.

Semantics every implementation keeps (``tests/gateway/accounts/domains_contract.py``):

- ``add`` refuses a hostname another workspace holds ``verified`` (``DomainTaken``; a pending or failed claim of
  another workspace blocks nobody), a workspace that does not exist (``WorkspaceMissing``), and one more
  domain than ``limit`` counting the workspace's domains that are not removed (``DomainLimitReached``); all
  three checked in the write's own transaction. Adding a hostname the same workspace already holds answers
  the stored record unchanged. Adding over its own ``removed`` record starts it afresh (new token, ``pending``).
- ``save_check`` of a ``verified`` result while another workspace holds the name verified stores ``failed``
  with ``VERIFIED_ELSEWHERE`` instead; one that verifies turns every other claim on the name ``failed``.
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


# The reason a claim is failed with when another workspace proved the name first (or holds it already).
VERIFIED_ELSEWHERE = "verified by another workspace"


def new_token() -> str:
    """A verification token: 16 random bytes as 32 lower-case hex digits, so it is one valid DNS label and reads
    the same in the TXT record and in the CNAME target ``<token>.<cname_target>`` (DNS ignores case)."""
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Domain:
    hostname: str
    namespace: str
    state: str = PENDING
    # Why the last check did not verify, for the customer ("the CNAME points at other.example, not …").
    reason: str = ""
    # The proof that names this workspace: what the TXT record ``_imgate-challenge.<hostname>`` holds, or the
    # first label of the CNAME target ``<token>.<cname_target>``.
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

    def get(self, namespace: str, hostname: str) -> Domain | None:
        """The workspace's record of ``hostname`` in any state (a removed one too), or None."""
        ...

    def routed(self, hostname: str) -> Domain | None:
        """The ``verified`` record of ``hostname`` (at most one exists), or None."""
        ...

    def in_workspace(self, namespace: str) -> list[Domain]:
        """The workspace's domains that are not removed, by hostname."""
        ...

    def save_check(self, domain: Domain) -> Domain | None:
        """Write a check's result (``state``, ``reason``, ``failures``, ``checked_at``) unless the domain was
        removed or re-added meanwhile (another token) or a check that started later was saved (a later
        ``checked_at``): then None, and nothing is written. A ``verified`` result is stored as ``failed``
        (``VERIFIED_ELSEWHERE``) when another workspace holds the name verified, and otherwise turns the other
        workspaces' claims on the name ``failed`` in the same transaction."""
        ...

    def remove(self, namespace: str, hostname: str) -> Domain | None:
        """Mark the workspace's domain ``removed``; None when it holds no such domain (or it is removed)."""
        ...

    def claim_due(self, now: float, pending_before: float, checked_before: float, limit: int) -> list[Domain]:
        """At most ``limit`` domains due for a re-check (pending ones last checked before ``pending_before``,
        verified and failed ones before ``checked_before``), oldest check first, each with ``checked_at``
        set to ``now`` so no other caller claims it."""
        ...
