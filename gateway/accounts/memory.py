"""An account store in this process's memory: for unit tests and throwaway demos.

Same semantics as the SQLite store (the account store contract suite runs against both): revisions and
compare-and-set, marks, rules, memberships, keys and audit rows deleted with their workspace, rules kept in
position order with ids that are never reused, unique emails, key prefixes and Stripe customers.
Thread-safe: tenancy reads the store from worker threads while an admin call may be writing.
Nothing outlives the process, and each Granian worker process would hold a store of its own.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from datetime import date

from gateway.accounts.audit import AuditEntry, AuditPage, check_page_size, decode_cursor, page_of
from gateway.accounts.capture_jobs import CaptureJobStore
from gateway.accounts.domains import DomainStore
from gateway.accounts.keys import ApiKey, KeyUse
from gateway.accounts.memory_capture_jobs import MemoryCaptureJobStore
from gateway.accounts.memory_domains import MemoryDomainStore
from gateway.accounts.memory_signin import MemorySignInStore
from gateway.accounts.memory_usage import MemoryUsageStore
from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.accounts.signin import SignInStore
from gateway.accounts.store import (
    KeyPrefixTaken,
    LastOwner,
    MemberExists,
    MemberMissing,
    StripeCustomerTaken,
    UserExists,
    UserMissing,
    WorkspaceConflict,
    WorkspaceExists,
    WorkspaceMissing,
    check_event_id,
    check_position,
    check_use_count,
    placed,
    stamp,
)
from gateway.accounts.usage import UsageStore
from gateway.accounts.users import InvalidEmail, Membership, User, new_user_id, normalise_email


class MemoryAccountStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workspaces: dict[str, Workspace] = {}
        self._marks: dict[str, dict[str, MarkPreset]] = {}
        # Per workspace, in position order; a rule's position is its index + 1.
        self._rules: dict[str, list[MarkRule]] = {}
        self._rule_ids = itertools.count(1)
        self._users: dict[str, User] = {}
        self._user_ids_by_email: dict[str, str] = {}
        self._members: dict[str, dict[str, Membership]] = {}
        self._keys: dict[str, ApiKey] = {}
        self._key_use: dict[tuple[str, date], int] = {}
        self._audit: list[AuditEntry] = []
        self._audit_ids = itertools.count(1)
        self._webhook_events: dict[str, float] = {}
        self._usage = MemoryUsageStore(lambda namespace: namespace in self._workspaces)
        self.usage: UsageStore = self._usage
        self.signins: SignInStore = MemorySignInStore()
        self._domains = MemoryDomainStore(lambda namespace: namespace in self._workspaces)
        self.domains: DomainStore = self._domains
        self._capture_jobs = MemoryCaptureJobStore()
        self.capture_jobs: CaptureJobStore = self._capture_jobs

    def get_workspace(self, namespace: str) -> Workspace | None:
        with self._lock:
            stored = self._workspaces.get(namespace)
        return _copy(stored) if stored else None

    def list_workspaces(self) -> list[Workspace]:
        with self._lock:
            stored = sorted(self._workspaces.values(), key=lambda ws: ws.namespace)
        return [_copy(ws) for ws in stored]

    def create_workspace(self, workspace: Workspace) -> Workspace:
        stored = _copy(dataclasses.replace(workspace, created_at=time.time(), revision=1))
        with self._lock:
            if workspace.namespace in self._workspaces:
                raise WorkspaceExists(workspace.namespace)
            self._check_customer(stored)
            self._workspaces[workspace.namespace] = stored
            self._marks[workspace.namespace] = {}
            self._rules[workspace.namespace] = []
            self._members[workspace.namespace] = {}
        return _copy(stored)

    def update_workspace(self, workspace: Workspace) -> Workspace:
        with self._lock:
            current = self._current(workspace.namespace)
            if current.revision != workspace.revision:
                raise WorkspaceConflict(workspace.namespace, workspace.revision, current.revision)
            stored = _copy(dataclasses.replace(workspace, created_at=current.created_at, revision=current.revision + 1))
            self._check_customer(stored)
            self._workspaces[workspace.namespace] = stored
        return _copy(stored)

    def delete_workspace(self, namespace: str) -> bool:
        with self._lock:
            self._marks.pop(namespace, None)
            self._rules.pop(namespace, None)
            self._members.pop(namespace, None)
            for key in [key for key in self._keys.values() if key.namespace == namespace]:
                del self._keys[key.key_id]
            self._key_use = {used: n for used, n in self._key_use.items() if used[0] in self._keys}
            self._audit = [entry for entry in self._audit if entry.namespace != namespace]
            self._usage.forget(namespace)
            self._domains.forget(namespace)
            self._capture_jobs.forget(namespace)
            return self._workspaces.pop(namespace, None) is not None

    def find_workspace_by_stripe_customer(self, customer_id: str) -> Workspace | None:
        if not customer_id:
            return None
        with self._lock:
            found = next((ws for ws in self._workspaces.values() if ws.billing.stripe_customer_id == customer_id), None)
        return _copy(found) if found else None

    def _check_customer(self, workspace: Workspace) -> None:
        customer = workspace.billing.stripe_customer_id
        for other in self._workspaces.values():
            if customer and other.namespace != workspace.namespace and other.billing.stripe_customer_id == customer:
                raise StripeCustomerTaken(customer, other.namespace)

    # -- marks and rules ------------------------------------------------------------------------

    def _current(self, namespace: str) -> Workspace:
        current = self._workspaces.get(namespace)
        if current is None:
            raise WorkspaceMissing(namespace)
        return current

    def _touch(self, namespace: str) -> None:
        """Bump the workspace's revision so every tenancy cache reloads its marks and rules."""
        current = self._current(namespace)
        self._workspaces[namespace] = dataclasses.replace(current, revision=current.revision + 1)

    def _renumber(self, namespace: str, ordered: list[MarkRule]) -> None:
        self._rules[namespace] = [
            dataclasses.replace(rule, position=index) for index, rule in enumerate(ordered, start=1)
        ]

    def list_marks(self, namespace: str) -> list[MarkPreset]:
        with self._lock:
            marks = self._marks.get(namespace, {})
            return [marks[name] for name in sorted(marks)]

    def put_mark(self, mark: MarkPreset) -> MarkPreset:
        stored = dataclasses.replace(mark, updated_at=time.time())
        with self._lock:
            self._touch(mark.namespace)
            self._marks[mark.namespace][mark.name] = stored
        return stored

    def delete_mark(self, namespace: str, name: str) -> bool:
        with self._lock:
            if any(rule.preset == name for rule in self._rules.get(namespace, ())):
                raise ValueError(f"mark {name} is used by an auto-apply rule; delete or change the rule first")
            if self._marks.get(namespace, {}).pop(name, None) is None:
                return False
            self._touch(namespace)
        return True

    def list_rules(self, namespace: str) -> list[MarkRule]:
        with self._lock:
            return list(self._rules.get(namespace, ()))

    def add_rule(
        self,
        namespace: str,
        preset: str,
        key_patterns: tuple[str, ...],
        src_host_patterns: tuple[str, ...],
        position: int | None = None,
    ) -> MarkRule:
        MarkRule(namespace, 0, 1, preset, key_patterns, src_host_patterns)  # validates
        check_position(position)
        with self._lock:
            self._current(namespace)
            if preset not in self._marks[namespace]:
                raise ValueError(f"no mark preset named {preset}")
            rule = MarkRule(namespace, next(self._rule_ids), 0, preset, tuple(key_patterns), tuple(src_host_patterns))
            return self._place(namespace, rule, position)

    def move_rule(self, namespace: str, rule_id: int, position: int) -> MarkRule:
        check_position(position)
        with self._lock:
            rule = next((rule for rule in self._rules.get(namespace, ()) if rule.rule_id == rule_id), None)
            if rule is None:
                raise ValueError(f"no rule {rule_id} in {namespace}")
            return self._place(namespace, rule, position)

    def _place(self, namespace: str, rule: MarkRule, position: int | None) -> MarkRule:
        by_id = {other.rule_id: other for other in self._rules[namespace]}
        by_id[rule.rule_id] = rule
        order = placed([other.rule_id for other in self._rules[namespace]], rule.rule_id, position)
        self._renumber(namespace, [by_id[rule_id] for rule_id in order])
        self._touch(namespace)
        return next(other for other in self._rules[namespace] if other.rule_id == rule.rule_id)

    def delete_rule(self, namespace: str, rule_id: int) -> bool:
        with self._lock:
            rules = self._rules.get(namespace, [])
            remaining = [rule for rule in rules if rule.rule_id != rule_id]
            if len(remaining) == len(rules):
                return False
            self._renumber(namespace, remaining)
            self._touch(namespace)
        return True

    # -- users and memberships ------------------------------------------------------------------

    def create_user(self, email: str, at: float | None = None) -> User:
        user = User(new_user_id(), normalise_email(email), created_at=stamp(at))
        with self._lock:
            if user.email in self._user_ids_by_email:
                raise UserExists(user.email)
            self._users[user.user_id] = user
            self._user_ids_by_email[user.email] = user.user_id
        return user

    def get_user(self, user_id: str) -> User | None:
        with self._lock:
            return self._users.get(user_id)

    def get_user_by_email(self, email: str) -> User | None:
        try:
            normal = normalise_email(email)
        except InvalidEmail:
            return None
        with self._lock:
            user_id = self._user_ids_by_email.get(normal)
            return self._users[user_id] if user_id else None

    def touch_sign_in(self, user_id: str, at: float | None = None) -> User:
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                raise UserMissing(user_id)
            user = self._users[user_id] = dataclasses.replace(user, last_sign_in_at=stamp(at))
        return user

    def add_member(self, namespace: str, user_id: str, role: str = "member") -> Membership:
        membership = Membership(namespace, user_id, role)
        with self._lock:
            self._current(namespace)
            if user_id not in self._users:
                raise UserMissing(user_id)
            members = self._members[namespace]
            if user_id in members:
                raise MemberExists(namespace, user_id)
            members[user_id] = membership
        return membership

    def remove_member(self, namespace: str, user_id: str) -> bool:
        with self._lock:
            members = self._members.get(namespace, {})
            if user_id not in members:
                return False
            self._keep_an_owner(members, user_id)
            del members[user_id]
        return True

    def change_role(self, namespace: str, user_id: str, role: str) -> Membership:
        changed = Membership(namespace, user_id, role)
        with self._lock:
            members = self._members.get(namespace, {})
            if user_id not in members:
                raise MemberMissing(namespace, user_id)
            if not changed.is_owner:
                self._keep_an_owner(members, user_id)
            members[user_id] = changed
        return changed

    @staticmethod
    def _keep_an_owner(members: dict[str, Membership], leaving: str) -> None:
        """Refuse when ``leaving`` is the last owner (a workspace that has no owner may lose members)."""
        owners = [member.user_id for member in members.values() if member.is_owner]
        if owners == [leaving]:
            raise LastOwner(members[leaving].namespace, leaving)

    def list_members(self, namespace: str) -> list[Membership]:
        with self._lock:
            members = list(self._members.get(namespace, {}).values())
            return sorted(members, key=lambda member: self._users[member.user_id].email)

    def list_memberships(self, user_id: str) -> list[Membership]:
        with self._lock:
            found = [members[user_id] for members in self._members.values() if user_id in members]
        return sorted(found, key=lambda member: member.namespace)

    # -- API keys ------------------------------------------------------------------------------------

    def create_api_key(self, key: ApiKey, at: float | None = None) -> ApiKey:
        stored = dataclasses.replace(key, created_at=stamp(at), last_used_at=None, revoked_at=None)
        with self._lock:
            self._current(key.namespace)
            if any(other.namespace == key.namespace and other.prefix == key.prefix for other in self._keys.values()):
                raise KeyPrefixTaken(key.namespace, key.prefix)
            if key.key_id in self._keys or any(other.sha256 == key.sha256 for other in self._keys.values()):
                raise ValueError("that API key is stored already")
            self._keys[key.key_id] = stored
        return stored

    def find_api_key(self, sha256: str) -> ApiKey | None:
        with self._lock:
            found = next((key for key in self._keys.values() if key.sha256 == sha256), None)
        return found if found is not None and not found.revoked else None

    def list_api_keys(self, namespace: str) -> list[ApiKey]:
        with self._lock:
            keys = [key for key in self._keys.values() if key.namespace == namespace]
        return sorted(keys, key=lambda key: (key.created_at, key.key_id))

    def revoke_api_key(self, namespace: str, prefix: str, at: float | None = None) -> ApiKey | None:
        with self._lock:
            key = next((k for k in self._keys.values() if k.namespace == namespace and k.prefix == prefix), None)
            if key is None or key.revoked:
                return key
            revoked = self._keys[key.key_id] = dataclasses.replace(key, revoked_at=stamp(at))
        return revoked

    def touch_api_key(self, key_id: str, at: float | None = None) -> None:
        with self._lock:
            key = self._keys.get(key_id)
            if key is not None:
                self._keys[key_id] = dataclasses.replace(key, last_used_at=stamp(at))

    def count_key_use(self, key_id: str, day: date, n: int = 1) -> None:
        check_use_count(n)
        with self._lock:
            if key_id in self._keys and n:
                self._key_use[(key_id, day)] = self._key_use.get((key_id, day), 0) + n

    def list_key_use(self, namespace: str, first: date, last: date) -> list[KeyUse]:
        with self._lock:
            found = [
                KeyUse(key_id, day, n)
                for (key_id, day), n in self._key_use.items()
                if first <= day <= last and self._keys[key_id].namespace == namespace
            ]
        return sorted(found, key=lambda use: (use.day, use.key_id))

    # -- audit ---------------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        with self._lock:
            stored = dataclasses.replace(entry, entry_id=next(self._audit_ids))
            self._audit.append(stored)
        return stored

    def list_audit(
        self,
        namespace: str,
        limit: int = 50,
        cursor: str | None = None,
        *,
        actor: str | None = None,
        operation: str | None = None,
    ) -> AuditPage:
        check_page_size(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        with self._lock:
            rows = [
                entry
                for entry in self._audit
                if entry.namespace == namespace
                and (actor is None or actor in entry.actor)
                and (operation is None or operation in entry.operation)
            ]
        rows.sort(key=lambda entry: (entry.at, entry.entry_id), reverse=True)
        if after is not None:
            rows = [entry for entry in rows if (entry.at, entry.entry_id) < after]
        return page_of(rows[: limit + 1], limit)

    def prune_audit(self, before: float) -> int:
        with self._lock:
            kept = [entry for entry in self._audit if entry.at >= before]
            pruned = len(self._audit) - len(kept)
            self._audit = kept
        return pruned

    # -- webhook events ----------------------------------------------------------------------------

    def record_webhook_event(self, event_id: str, at: float | None = None) -> bool:
        check_event_id(event_id)
        with self._lock:
            if event_id in self._webhook_events:
                return False
            self._webhook_events[event_id] = stamp(at)
        return True

    def forget_webhook_event(self, event_id: str) -> bool:
        with self._lock:
            return self._webhook_events.pop(event_id, None) is not None

    def prune_webhook_events(self, before: float) -> int:
        with self._lock:
            old = [event_id for event_id, at in self._webhook_events.items() if at < before]
            for event_id in old:
                del self._webhook_events[event_id]
        return len(old)

    def close(self) -> None:
        return None


def _copy(workspace: Workspace) -> Workspace:
    # ``origin`` is a mutable mapping: a caller changing its dict must not change the stored record (SQLite
    # hands out fresh records from rows, so the memory store must too).
    return dataclasses.replace(workspace, origin=dict(workspace.origin))
