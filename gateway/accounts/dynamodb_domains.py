"""Custom domains in the DynamoDB account table (``DynamoAccountStore.domains``).

A workspace's claim on a hostname is ``DOMAIN#<host>`` / ``CLAIM#<ns>``: every claim on one name shares a
partition, so ``add`` and ``save_check`` read the name's claims with one strongly consistent query. The claim that
verified has a copy at ``DOMAIN#<host>`` / ``VERIFIED``, written and deleted in the same transaction as the claim:
routing (``routed``, on the request path) is one strongly consistent read of one item, and a domain verified or
removed on one node routes, or stops routing, on every node at once. Each workspace also holds a marker
``WS#<ns>`` / ``DOMAIN#<host>`` (removed or not): a consistent query of the workspace's partition lists and counts
its domains (the plan's cap), and the markers go with the partition when the workspace is deleted.

What holds across nodes: writes that decide who holds a name (``add``, ``save_check``, ``remove``) hold the
hostname's lock item, and ``add`` the workspace's as well (the cap, and no claim added while the workspace is
being deleted). The ``VERIFIED`` item is also the name's uniqueness item: it is written only if absent or already
the same workspace's, so even a write that outlived its lock cannot verify a second claim. ``save_check`` and
``claim_due`` are also conditional on the token and the ``checked_at`` read, so a stale check writes nothing and
a due domain is claimed by one caller only.
"""

from __future__ import annotations

import dataclasses
import time

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
from gateway.accounts.dynamodb_table import (
    Item,
    Table,
    check_action,
    delete_action,
    n,
    num,
    put_action,
    s,
    text,
    update_action,
)
from gateway.accounts.store import WorkspaceMissing

_ROUTED = "VERIFIED"


def _domain(item: Item) -> Domain:
    return Domain(
        hostname=text(item, "PK").removeprefix("DOMAIN#"),
        namespace=text(item, "namespace"),
        state=text(item, "dstate"),
        reason=text(item, "reason"),
        token=text(item, "tok"),
        created_at=num(item, "created") or 0.0,
        checked_at=num(item, "check_at") or 0.0,
        failures=int(num(item, "failures") or 0),
    )


def _item(domain: Domain, sk: str = "") -> Item:
    return {
        "PK": s(f"DOMAIN#{domain.hostname}"),
        "SK": s(sk or f"CLAIM#{domain.namespace}"),
        "namespace": s(domain.namespace),
        "dstate": s(domain.state),
        "reason": s(domain.reason),
        "tok": s(domain.token),
        "created": n(domain.created_at),
        "check_at": n(domain.checked_at),
        "failures": n(domain.failures),
    }


def marker_item(domain: Domain) -> Item:
    """The workspace's marker of its claim (what ``in_workspace`` and the cap read): removed or not."""
    return {
        "PK": s(f"WS#{domain.namespace}"),
        "SK": s(f"DOMAIN#{domain.hostname}"),
        "dstate": s(REMOVED if domain.state == REMOVED else PENDING),
    }


def domain_items(domain: Domain) -> list[Item]:
    """Every item of one claim: the claim itself first, the workspace's marker, and for a verified claim the
    routed copy (the copy from SQLite writes these, so a copied domain routes as one verified here does)."""
    items = [_item(domain), marker_item(domain)]
    if domain.state == VERIFIED:
        items.append(_item(domain, _ROUTED))
    return items


def _put_routed(domain: Domain) -> Item:
    # Only over nothing or over the same workspace's copy: at most one workspace is ever routed for a name.
    return put_action(
        _item(domain, _ROUTED), "attribute_not_exists(PK) OR namespace = :ns", {":ns": s(domain.namespace)}
    )


def _delete_routed(namespace: str, hostname: str) -> Item:
    return delete_action(f"DOMAIN#{hostname}", _ROUTED, "namespace = :ns", {":ns": s(namespace)})


class DynamoDomainStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _claims(self, hostname: str) -> list[Domain]:
        return [_domain(item) for item in self._table.query(f"DOMAIN#{hostname}", prefix="CLAIM#")]

    def _routed_namespace(self, hostname: str) -> str | None:
        item = self._table.get(f"DOMAIN#{hostname}", _ROUTED)
        return text(item, "namespace") if item else None

    def add(self, domain: Domain, limit: int) -> Domain:
        pk = f"WS#{domain.namespace}"
        # The workspace's lock (the cap; a deletion of the workspace takes it too), then the name's.
        with self._table.lock(pk), self._table.lock(f"DOMAIN#{domain.hostname}"):
            if self._table.get(pk, "WS") is None:
                raise WorkspaceMissing(domain.namespace)
            stored = self.get(domain.namespace, domain.hostname)
            if stored is not None and stored.state != REMOVED:
                return stored
            if self._routed_namespace(domain.hostname) is not None:
                raise DomainTaken(domain.hostname)
            held = sum(1 for marker in self._markers(domain.namespace) if text(marker, "dstate") != REMOVED)
            if held >= limit:
                raise DomainLimitReached(domain.namespace, limit)
            fresh = Domain(
                hostname=domain.hostname,
                namespace=domain.namespace,
                state=PENDING,
                reason=domain.reason,
                token=domain.token or new_token(),
                created_at=time.time(),
            )
            ok = self._table.transact(
                [
                    # The workspace may be deleted meanwhile (that takes no domain lock).
                    check_action(pk, "WS", "attribute_exists(PK)"),
                    check_action(f"DOMAIN#{domain.hostname}", _ROUTED, "attribute_not_exists(PK)"),
                    put_action(_item(fresh)),
                    put_action(marker_item(fresh)),
                ]
            )
            if not ok:
                if self._routed_namespace(domain.hostname) is not None:
                    raise DomainTaken(domain.hostname)
                raise WorkspaceMissing(domain.namespace)
            return fresh

    def _markers(self, namespace: str) -> list[Item]:
        return list(self._table.query(f"WS#{namespace}", prefix="DOMAIN#"))

    def get(self, namespace: str, hostname: str) -> Domain | None:
        item = self._table.get(f"DOMAIN#{hostname}", f"CLAIM#{namespace}")
        return _domain(item) if item else None

    def routed(self, hostname: str) -> Domain | None:
        item = self._table.get(f"DOMAIN#{hostname}", _ROUTED)
        return _domain(item) if item else None

    def in_workspace(self, namespace: str) -> list[Domain]:
        found = []
        for marker in self._markers(namespace):
            if text(marker, "dstate") == REMOVED:
                continue
            domain = self.get(namespace, text(marker, "SK").removeprefix("DOMAIN#"))
            if domain is not None and domain.state != REMOVED:
                found.append(domain)
        return sorted(found, key=lambda d: d.hostname)

    def save_check(self, domain: Domain) -> Domain | None:
        with self._table.lock(f"DOMAIN#{domain.hostname}"):
            state, reason = domain.state, domain.reason
            holder = self._routed_namespace(domain.hostname)
            others: list[Domain] = []
            if state == VERIFIED:
                if holder is not None and holder != domain.namespace:
                    state, reason = FAILED, VERIFIED_ELSEWHERE
                else:
                    others = [
                        claim
                        for claim in self._claims(domain.hostname)
                        if claim.namespace != domain.namespace and claim.state != REMOVED
                    ]
            actions = [
                update_action(
                    f"DOMAIN#{domain.hostname}",
                    f"CLAIM#{domain.namespace}",
                    "SET dstate = :state, reason = :reason, failures = :failures, check_at = :checked",
                    "attribute_exists(PK) AND dstate <> :removed AND tok = :tok AND check_at <= :checked",
                    {
                        ":state": s(state),
                        ":reason": s(reason),
                        ":failures": n(domain.failures),
                        ":checked": n(domain.checked_at),
                        ":removed": s(REMOVED),
                        ":tok": s(domain.token),
                    },
                )
            ]
            stored = self.get(domain.namespace, domain.hostname)
            if state == VERIFIED and stored is not None:
                # The routed copy is the claim as this write leaves it (a stale write is refused as a whole).
                routed = dataclasses.replace(
                    stored, state=state, reason=reason, failures=domain.failures, checked_at=domain.checked_at
                )
                actions.append(_put_routed(routed))
            elif holder == domain.namespace:
                actions.append(_delete_routed(domain.namespace, domain.hostname))  # it stops routing now
            # The name is proved here: every other workspace's claim on it fails in the same transaction.
            actions += [
                update_action(
                    f"DOMAIN#{other.hostname}",
                    f"CLAIM#{other.namespace}",
                    "SET dstate = :failed, reason = :elsewhere",
                    "dstate <> :removed",
                    {":failed": s(FAILED), ":elsewhere": s(VERIFIED_ELSEWHERE), ":removed": s(REMOVED)},
                )
                for other in others
            ]
            if not self._table.transact(actions):
                return None
        return self.get(domain.namespace, domain.hostname)

    def remove(self, namespace: str, hostname: str) -> Domain | None:
        with self._table.lock(f"DOMAIN#{hostname}"):
            actions = [
                update_action(
                    f"DOMAIN#{hostname}",
                    f"CLAIM#{namespace}",
                    "SET dstate = :removed, reason = :empty",
                    "attribute_exists(PK) AND dstate <> :removed",
                    {":removed": s(REMOVED), ":empty": s("")},
                ),
                update_action(
                    f"WS#{namespace}",
                    f"DOMAIN#{hostname}",
                    "SET dstate = :removed",
                    values={":removed": s(REMOVED)},
                ),
            ]
            if self._routed_namespace(hostname) == namespace:
                actions.append(_delete_routed(namespace, hostname))  # the name is free (and unrouted) at once
            ok = self._table.transact(actions)
        return self.get(namespace, hostname) if ok else None

    def claim_due(self, now: float, pending_before: float, checked_before: float, limit: int) -> list[Domain]:
        due = [
            domain
            for domain in (
                _domain(item) for item in self._table.scan("DOMAIN#") if text(item, "SK").startswith("CLAIM#")
            )
            if domain.state in CHECKED_STATES
            and domain.checked_at < (pending_before if domain.state == PENDING else checked_before)
        ]
        due.sort(key=lambda d: (d.checked_at, d.hostname, d.namespace))
        claimed: list[Domain] = []
        for domain in due:
            if len(claimed) >= limit:
                break
            # Claimed only if no other caller moved ``checked_at`` since the scan read it.
            item = self._table.update(
                f"DOMAIN#{domain.hostname}",
                f"CLAIM#{domain.namespace}",
                "SET check_at = :now",
                condition="check_at = :seen AND dstate = :state",
                values={":now": n(now), ":seen": n(domain.checked_at), ":state": s(domain.state)},
            )
            if item is None:
                continue
            claimed.append(_domain(item))
            if domain.state == VERIFIED:
                # The routed copy follows (its check time is for reading only). A separate write, never one
                # that creates the copy: a check saved meanwhile may have un-routed the name, and only the
                # claim decides who checks it, so a routed copy gone astray never stops re-checks.
                self._table.update(
                    f"DOMAIN#{domain.hostname}",
                    _ROUTED,
                    "SET check_at = :now",
                    condition="namespace = :ns AND tok = :tok AND check_at < :now",
                    values={":now": n(now), ":ns": s(domain.namespace), ":tok": s(domain.token)},
                )
        return claimed

    def forget(self, namespace: str) -> None:
        """The workspace is being deleted: its claims go (its markers go with its partition), then the routed
        copies it holds: in that order, a check saved meanwhile finds no claim and cannot route the name again."""
        hostnames = [text(marker, "SK").removeprefix("DOMAIN#") for marker in self._markers(namespace)]
        self._table.delete_all([(f"DOMAIN#{host}", f"CLAIM#{namespace}") for host in hostnames])
        for host in hostnames:
            self._table.delete(f"DOMAIN#{host}", _ROUTED, condition="namespace = :ns", values={":ns": s(namespace)})
