"""Custom domains in the DynamoDB account table (``DynamoAccountStore.domains``).

A workspace's claim on a hostname is ``DOMAIN#<host>`` / ``CLAIM#<ns>``: every claim on one name shares a
partition, so routing (``routed``: the verified claim) is one strongly consistent query by host, and a domain
verified on one node routes on every node at once. Each workspace also holds a marker ``WS#<ns>`` /
``DOMAIN#<host>`` (removed or not): a consistent query of the workspace's partition lists and counts its domains
(the plan's cap), and the markers go with the partition when the workspace is deleted.

What holds across nodes: writes that decide who holds a name (``add``, ``save_check``, ``remove``) hold the
hostname's lock item, and ``add`` the workspace's as well (the cap, and no claim added while the workspace is
being deleted), so at most one claim is ever verified; ``save_check`` and ``claim_due`` are also conditional on
the token and the ``checked_at`` read, so a stale check writes nothing and a due domain is claimed by one
caller only.
"""

from __future__ import annotations

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
    n,
    num,
    put_action,
    s,
    text,
    update_action,
)
from gateway.accounts.store import WorkspaceMissing


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


def _item(domain: Domain) -> Item:
    return {
        "PK": s(f"DOMAIN#{domain.hostname}"),
        "SK": s(f"CLAIM#{domain.namespace}"),
        "namespace": s(domain.namespace),
        "dstate": s(domain.state),
        "reason": s(domain.reason),
        "tok": s(domain.token),
        "created": n(domain.created_at),
        "check_at": n(domain.checked_at),
        "failures": n(domain.failures),
    }


class DynamoDomainStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _claims(self, hostname: str) -> list[Domain]:
        return [_domain(item) for item in self._table.query(f"DOMAIN#{hostname}", prefix="CLAIM#")]

    def add(self, domain: Domain, limit: int) -> Domain:
        pk = f"WS#{domain.namespace}"
        # The workspace's lock (the cap; a deletion of the workspace takes it too), then the name's.
        with self._table.lock(pk), self._table.lock(f"DOMAIN#{domain.hostname}"):
            if self._table.get(pk, "WS") is None:
                raise WorkspaceMissing(domain.namespace)
            stored = self.get(domain.namespace, domain.hostname)
            if stored is not None and stored.state != REMOVED:
                return stored
            if any(claim.state == VERIFIED for claim in self._claims(domain.hostname)):
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
                    put_action(_item(fresh)),
                    put_action({"PK": s(pk), "SK": s(f"DOMAIN#{fresh.hostname}"), "dstate": s(PENDING)}),
                ]
            )
            if not ok:
                raise WorkspaceMissing(domain.namespace)
            return fresh

    def _markers(self, namespace: str) -> list[Item]:
        return list(self._table.query(f"WS#{namespace}", prefix="DOMAIN#"))

    def get(self, namespace: str, hostname: str) -> Domain | None:
        item = self._table.get(f"DOMAIN#{hostname}", f"CLAIM#{namespace}")
        return _domain(item) if item else None

    def routed(self, hostname: str) -> Domain | None:
        return next((claim for claim in self._claims(hostname) if claim.state == VERIFIED), None)

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
            others: list[Domain] = []
            if state == VERIFIED:
                claims = [claim for claim in self._claims(domain.hostname) if claim.namespace != domain.namespace]
                if any(claim.state == VERIFIED for claim in claims):
                    state, reason = FAILED, VERIFIED_ELSEWHERE
                else:
                    others = [claim for claim in claims if claim.state != REMOVED]
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
            ok = self._table.transact(
                [
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
            )
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
            if item is not None:
                claimed.append(_domain(item))
        return claimed

    def forget(self, namespace: str) -> None:
        """The workspace is being deleted: its claims go (its markers go with its partition)."""
        self._table.delete_all([(text(marker, "SK"), f"CLAIM#{namespace}") for marker in self._markers(namespace)])
