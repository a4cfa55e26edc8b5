"""The ``AccountStore`` protocol and the errors every implementation raises.

Calls are synchronous: the embedded SQLite store and boto3's DynamoDB client both block, and the hot path
never calls the store directly (``gateway.tenancy`` caches workspaces and refreshes them in a thread).

Semantics every implementation keeps (``tests/gateway/accounts/contract.py`` checks them):

- A workspace's ``revision`` counts its changes: 1 when created, +1 on every update and on every change to
  its marks or rules, so a process that cached revision N knows its copy is stale when it sees N+1.
- ``update_workspace`` is a compare-and-set on that revision: it writes only when the record passed in
  carries the revision stored now, and raises ``WorkspaceConflict`` otherwise. Two admins (or two nodes)
  editing the same workspace therefore never lose each other's change silently; the loser reads again.
- Deleting a workspace deletes its marks and rules with it.
- Creating a mark or a rule in a workspace that does not exist raises ``WorkspaceMissing``; deleting
  something that does not exist answers ``False``.
- Deleting a workspace also deletes its memberships, API keys (with their use counters) and audit rows: a
  workspace created again under the name inherits nothing. Users outlive their workspaces.
- A Stripe customer pays for at most one workspace (``StripeCustomerTaken``), so a billing webhook is about
  exactly one.
- Email addresses are unique in their normal form (``users.normalise_email``); a workspace with owners keeps
  at least one (``LastOwner``).
- API keys are found by the SHA-256 of their secret and never when revoked; a key's prefix is unique within
  its workspace. Lookups are not cached by the store, so a revocation counts from the next request.
- Times the store sets (``created_at``, sign-in, last use, revocation) are the caller's ``at`` when given,
  else the wall clock.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Protocol

from gateway.accounts.audit import AuditEntry, AuditPage
from gateway.accounts.capture_jobs import CaptureJobStore
from gateway.accounts.domains import DomainStore
from gateway.accounts.keys import ApiKey, KeyUse
from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.accounts.signin import SignInStore
from gateway.accounts.usage import UsageStore
from gateway.accounts.users import Membership, User


class WorkspaceExists(Exception):
    def __init__(self, namespace: str) -> None:
        super().__init__(f"workspace {namespace} already exists")
        self.namespace = namespace


class WorkspaceMissing(Exception):
    def __init__(self, namespace: str) -> None:
        super().__init__(f"no workspace {namespace}")
        self.namespace = namespace


class WorkspaceConflict(Exception):
    """A stale write: the workspace changed since the record being written was read."""

    def __init__(self, namespace: str, given: int, stored: int) -> None:
        super().__init__(
            f"workspace {namespace} was changed meanwhile: the update is based on revision {given}, "
            f"the stored revision is {stored}; read it again and retry"
        )
        self.namespace = namespace
        self.given = given
        self.stored = stored


class StripeCustomerTaken(Exception):
    def __init__(self, customer_id: str, namespace: str) -> None:
        super().__init__(f"that Stripe customer already pays for workspace {namespace}")
        self.customer_id = customer_id
        self.namespace = namespace


class UserExists(Exception):
    def __init__(self, email: str) -> None:
        # The address is not repeated: messages end up in logs, addresses are personal data.
        super().__init__("a user with that email address exists already")
        self.email = email


class UserMissing(Exception):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"no user {user_id}")
        self.user_id = user_id


class MemberExists(Exception):
    def __init__(self, namespace: str, user_id: str) -> None:
        super().__init__(f"user {user_id} is a member of {namespace} already")
        self.namespace = namespace
        self.user_id = user_id


class MemberMissing(Exception):
    def __init__(self, namespace: str, user_id: str) -> None:
        super().__init__(f"user {user_id} is not a member of {namespace}")
        self.namespace = namespace
        self.user_id = user_id


class LastOwner(Exception):
    """Removing or demoting this member would leave the workspace without an owner."""

    def __init__(self, namespace: str, user_id: str) -> None:
        super().__init__(f"user {user_id} is the last owner of {namespace}; make another member an owner first")
        self.namespace = namespace
        self.user_id = user_id


class KeyPrefixTaken(Exception):
    def __init__(self, namespace: str, prefix: str) -> None:
        super().__init__(f"workspace {namespace} has a key with the prefix {prefix} already")
        self.namespace = namespace
        self.prefix = prefix


class AccountStore(Protocol):
    signins: SignInStore  # dashboard sign-in codes and sessions (gateway.accounts.signin)
    usage: UsageStore  # usage counters per workspace per UTC day (gateway.accounts.usage)
    domains: DomainStore  # custom domains and their verification (gateway.accounts.domains)
    capture_jobs: CaptureJobStore  # the management API's capture jobs (gateway.accounts.capture_jobs)

    def get_workspace(self, namespace: str) -> Workspace | None: ...

    def list_workspaces(self) -> list[Workspace]:
        """Every workspace, by namespace."""
        ...

    def create_workspace(self, workspace: Workspace) -> Workspace:
        """Insert; raises ``WorkspaceExists``. Returns the stored record (revision 1, created_at set)."""
        ...

    def update_workspace(self, workspace: Workspace) -> Workspace:
        """Replace the record whose revision is ``workspace.revision``; returns it with the next revision.

        Raises ``WorkspaceMissing``, or ``WorkspaceConflict`` when the stored revision is another one.
        ``created_at`` is kept from the stored record.
        """
        ...

    def delete_workspace(self, namespace: str) -> bool:
        """Delete the workspace with its marks, rules, memberships, keys and audit rows; ``False`` when none."""
        ...

    def find_workspace_by_stripe_customer(self, customer_id: str) -> Workspace | None:
        """The workspace whose ``billing.stripe_customer_id`` is ``customer_id``."""
        ...

    # Marks and rules. Every change also bumps the workspace's revision, so each process's tenancy cache
    # reloads them within its TTL.
    def list_marks(self, namespace: str) -> list[MarkPreset]:
        """By name."""
        ...

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        """Insert or replace by (namespace, name); sets ``updated_at``. Raises ``WorkspaceMissing``."""
        ...

    def delete_mark(self, namespace: str, name: str) -> bool:
        """Refuses (``ValueError``) while a rule still names the preset."""
        ...

    def list_rules(self, namespace: str) -> list[MarkRule]:
        """In the order they are tried: by position (1, 2, …)."""
        ...

    def add_rule(
        self,
        namespace: str,
        preset: str,
        key_patterns: tuple[str, ...],
        src_host_patterns: tuple[str, ...],
        position: int | None = None,
    ) -> MarkRule:
        """Insert at ``position`` (1-based, clamped; default last), shifting later rules down.

        Raises ``WorkspaceMissing``, or ``ValueError`` when no mark preset is named ``preset`` or the rule has
        no pattern. Rule ids are unique across workspaces and never reused.
        """
        ...

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule:
        """Move to ``position`` (1-based, clamped); ``ValueError`` when the workspace has no such rule."""
        ...

    def delete_rule(self, namespace: str, rule_id: int) -> bool:
        """Delete and renumber the rules after it."""
        ...

    # Users and memberships.
    def create_user(self, email: str, at: float | None = None) -> User:
        """A new user with a new id; ``InvalidEmail``, or ``UserExists`` when the normal form is taken."""
        ...

    def get_user(self, user_id: str) -> User | None: ...

    def get_user_by_email(self, email: str) -> User | None:
        """By the address's normal form; ``None`` also for text that is no email address."""
        ...

    def touch_sign_in(self, user_id: str, at: float | None = None) -> User:
        """Set ``last_sign_in_at``; raises ``UserMissing``."""
        ...

    def add_member(self, namespace: str, user_id: str, role: str = "member") -> Membership:
        """Raises ``WorkspaceMissing``, ``UserMissing``, ``MemberExists``, or ``ValueError`` for a bad role."""
        ...

    def remove_member(self, namespace: str, user_id: str) -> bool:
        """``False`` when the user was not a member; ``LastOwner`` when they are the workspace's last owner."""
        ...

    def change_role(self, namespace: str, user_id: str, role: str) -> Membership:
        """Raises ``MemberMissing``, ``LastOwner`` (demoting the last owner), ``ValueError`` for a bad role."""
        ...

    def list_members(self, namespace: str) -> list[Membership]:
        """By the members' email addresses."""
        ...

    def list_memberships(self, user_id: str) -> list[Membership]:
        """The workspaces a user belongs to, by namespace."""
        ...

    # API keys.
    def create_api_key(self, key: ApiKey, at: float | None = None) -> ApiKey:
        """Store a new key (``keys.issue_api_key`` makes one); returns it with ``created_at`` set.

        ``last_used_at`` and ``revoked_at`` start empty. Raises ``WorkspaceMissing``, ``KeyPrefixTaken``, or
        ``ValueError`` when the key id or digest is stored already.
        """
        ...

    def find_api_key(self, sha256: str) -> ApiKey | None:
        """The key whose secret has this digest; ``None`` when there is none or it is revoked."""
        ...

    def list_api_keys(self, namespace: str) -> list[ApiKey]:
        """Every key of the workspace, revoked ones included, oldest first."""
        ...

    def revoke_api_key(self, namespace: str, prefix: str, at: float | None = None) -> ApiKey | None:
        """Revoke the workspace's key with this prefix; the record, or ``None`` when there is no such key.

        Revoking a revoked key changes nothing and answers its record.
        """
        ...

    def touch_api_key(self, key_id: str, at: float | None = None) -> None:
        """Set ``last_used_at``. Callers throttle (``last_used.LastUsedThrottle``); an unknown id is ignored."""
        ...

    def count_key_use(self, key_id: str, day: date, n: int = 1) -> None:
        """Add ``n`` requests to the key's counter for ``day`` (UTC). Counts of an unknown key are dropped."""
        ...

    def list_key_use(self, namespace: str, first: date, last: date) -> list[KeyUse]:
        """The workspace's non-zero counters from ``first`` to ``last`` inclusive, by day then key id."""
        ...

    # Audit rows.
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        """Store a row; returns it with its ``entry_id``."""
        ...

    def list_audit(
        self,
        namespace: str,
        limit: int = 50,
        cursor: str | None = None,
        *,
        actor: str | None = None,
        operation: str | None = None,
    ) -> AuditPage:
        """Newest first (by time, then id). ``ValueError`` for a limit outside 1-500, ``InvalidCursor``.

        ``actor`` / ``operation``: only rows whose actor / operation contains that text (case-sensitive), matched
        by the store, so a page is full whenever enough rows match.
        """
        ...

    def prune_audit(self, before: float) -> int:
        """Delete every row (of every workspace) older than ``before``; how many were deleted."""
        ...

    # Processed webhook event ids, so a replayed delivery is refused.
    def record_webhook_event(self, event_id: str, at: float | None = None) -> bool:
        """Insert if new: ``True`` the first time an id is seen, ``False`` for a replay.

        Record before applying (two deliveries racing must not both apply) and ``forget_webhook_event`` when
        applying fails, so the sender's retry is accepted.
        """
        ...

    def forget_webhook_event(self, event_id: str) -> bool: ...

    def prune_webhook_events(self, before: float) -> int:
        """Delete ids recorded before ``before``: a delivery older than the signature tolerance is refused anyway."""
        ...

    def close(self) -> None: ...


def check_position(position: int | None) -> None:
    """Rule positions are 1-based: 1 is tried first."""
    if position is not None and position < 1:
        raise ValueError("rule position must be 1 (tried first) or more")


def placed(rule_ids: list[int], rule_id: int, position: int | None) -> list[int]:
    """``rule_ids`` in order with ``rule_id`` moved (or added) to ``position``; ``None`` or past the end is last."""
    check_position(position)
    others = [other for other in rule_ids if other != rule_id]
    index = len(others) if position is None else min(position - 1, len(others))
    return [*others[:index], rule_id, *others[index:]]


def check_event_id(event_id: str) -> str:
    if not 1 <= len(event_id) <= 255 or not event_id.isascii() or not event_id.isprintable() or " " in event_id:
        raise ValueError("a webhook event id is 1-255 printable ASCII characters without spaces")
    return event_id


def check_use_count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError("a use count adds a whole number of 0 or more requests")
    return n


def stamp(at: float | None) -> float:
    """The time a store records: the caller's, else now."""
    return time.time() if at is None else at
