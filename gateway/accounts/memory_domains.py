"""Custom domains in this process's memory, beside ``MemoryAccountStore``: for unit tests and demos."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from gateway.accounts.domains import (
    CHECKED_STATES,
    FAILED,
    PENDING,
    REMOVED,
    VERIFIED,
    VERIFIED_ELSEWHERE,
    Domain,
    DomainLimitReached,
    DomainTaken,
    new_token,
)
from gateway.accounts.store import WorkspaceMissing


class MemoryDomainStore:
    def __init__(self, workspace_exists: Callable[[str], bool]) -> None:
        # The account store's own check, so a domain cannot outlive (or precede) its workspace, as in SQLite.
        self._workspace_exists = workspace_exists
        self._lock = threading.Lock()
        # One claim per (hostname, namespace), as the SQL tables' primary key.
        self._domains: dict[tuple[str, str], Domain] = {}

    def _verified(self, hostname: str) -> Domain | None:
        return next((d for d in self._domains.values() if d.hostname == hostname and d.state == VERIFIED), None)

    def add(self, domain: Domain, limit: int) -> Domain:
        if not self._workspace_exists(domain.namespace):
            raise WorkspaceMissing(domain.namespace)
        with self._lock:
            stored = self._domains.get((domain.hostname, domain.namespace))
            if stored is not None and stored.state != REMOVED:
                return stored
            holder = self._verified(domain.hostname)
            if holder is not None:
                raise DomainTaken(domain.hostname)
            held = sum(1 for d in self._domains.values() if d.namespace == domain.namespace and d.state != REMOVED)
            if held >= limit:
                raise DomainLimitReached(domain.namespace, limit)
            fresh = dataclasses.replace(
                domain,
                state=PENDING,
                reason=domain.reason,
                token=domain.token or new_token(),
                created_at=time.time(),
                checked_at=0.0,
                failures=0,
            )
            self._domains[(domain.hostname, domain.namespace)] = fresh
            return fresh

    def get(self, namespace: str, hostname: str) -> Domain | None:
        with self._lock:
            return self._domains.get((hostname, namespace))

    def routed(self, hostname: str) -> Domain | None:
        with self._lock:
            return self._verified(hostname)

    def in_workspace(self, namespace: str) -> list[Domain]:
        with self._lock:
            found = [d for d in self._domains.values() if d.namespace == namespace and d.state != REMOVED]
        return sorted(found, key=lambda d: d.hostname)

    def save_check(self, domain: Domain) -> Domain | None:
        with self._lock:
            key = (domain.hostname, domain.namespace)
            stored = self._domains.get(key)
            if stored is None or stored.state == REMOVED or stored.token != domain.token:
                return None
            if stored.checked_at > domain.checked_at:
                return None
            state, reason = domain.state, domain.reason
            if state == VERIFIED:
                holder = self._verified(domain.hostname)
                if holder is not None and holder.namespace != domain.namespace:
                    state, reason = FAILED, VERIFIED_ELSEWHERE
                else:
                    for other_key, other in self._domains.items():
                        if other.hostname == domain.hostname and other_key != key and other.state != REMOVED:
                            self._domains[other_key] = dataclasses.replace(
                                other, state=FAILED, reason=VERIFIED_ELSEWHERE
                            )
            saved = dataclasses.replace(
                stored, state=state, reason=reason, failures=domain.failures, checked_at=domain.checked_at
            )
            self._domains[key] = saved
            return saved

    def remove(self, namespace: str, hostname: str) -> Domain | None:
        with self._lock:
            stored = self._domains.get((hostname, namespace))
            if stored is None or stored.state == REMOVED:
                return None
            removed = dataclasses.replace(stored, state=REMOVED, reason="")
            self._domains[(hostname, namespace)] = removed
            return removed

    def claim_due(self, now: float, pending_before: float, checked_before: float, limit: int) -> list[Domain]:
        with self._lock:
            due = [
                d
                for d in self._domains.values()
                if d.state in CHECKED_STATES
                and d.checked_at < (pending_before if d.state == PENDING else checked_before)
            ]
            due.sort(key=lambda d: (d.checked_at, d.hostname, d.namespace))
            claimed = [dataclasses.replace(d, checked_at=now) for d in due[:limit]]
            for domain in claimed:
                self._domains[(domain.hostname, domain.namespace)] = domain
        return claimed

    def forget(self, namespace: str) -> None:
        """The workspace was deleted: its domains go with it."""
        with self._lock:
            for key in [k for k, d in self._domains.items() if d.namespace == namespace]:
                del self._domains[key]
