"""The custom domain store contract (``gateway.accounts.domains``), run against every account store."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.accounts.domains import (
    FAILED,
    PENDING,
    REMOVED,
    VERIFIED,
    VERIFIED_ELSEWHERE,
    Domain,
    DomainLimitReached,
    DomainTaken,
)
from gateway.accounts.models import Workspace
from gateway.accounts.store import AccountStore, WorkspaceMissing


def _workspaces(store: AccountStore, *names: str) -> None:
    for name in names:
        store.create_workspace(Workspace(name))


class DomainsContract:
    def test_add_stores_a_pending_domain_with_a_token(self, store: AccountStore) -> None:
        _workspaces(store, "acme")
        added = store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        assert added.state == PENDING and len(added.token) >= 32 and added.created_at > 0
        assert added.checked_at == 0 and added.failures == 0
        assert store.domains.get("acme", "img.acme.test") == added
        assert store.domains.in_workspace("acme") == [added]

    def test_a_pending_claim_blocks_no_other_workspace(self, store: AccountStore) -> None:
        _workspaces(store, "acme", "rival")
        first = store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        second = store.domains.add(Domain("img.acme.test", "rival"), limit=2)
        assert second.namespace == "rival" and second.state == PENDING and second.token != first.token
        assert store.domains.add(Domain("img.acme.test", "acme"), limit=2) == first  # the same owner: unchanged
        assert store.domains.get("acme", "img.acme.test") == first
        assert store.domains.get("rival", "img.acme.test") == second
        assert store.domains.routed("img.acme.test") is None

    def test_the_first_to_verify_wins_and_the_other_claims_fail(self, store: AccountStore) -> None:
        _workspaces(store, "acme", "rival", "third")
        acme = store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        rival = store.domains.add(Domain("img.acme.test", "rival"), limit=2)
        won = store.domains.save_check(dataclasses.replace(rival, state=VERIFIED, checked_at=10.0))
        assert won is not None and won.state == VERIFIED
        assert store.domains.routed("img.acme.test") == won
        lost = store.domains.get("acme", "img.acme.test")
        assert lost is not None and (lost.state, lost.reason) == (FAILED, VERIFIED_ELSEWHERE)
        # A later proof of the loser never takes a verified name away; a new claim on it is refused.
        late = store.domains.save_check(dataclasses.replace(acme, state=VERIFIED, checked_at=20.0))
        assert late is not None and (late.state, late.reason) == (FAILED, VERIFIED_ELSEWHERE)
        assert store.domains.routed("img.acme.test") == won
        with pytest.raises(DomainTaken):
            store.domains.add(Domain("img.acme.test", "third"), limit=2)
        # Once the winner lets it go, the other claim verifies on its next check.
        store.domains.remove("rival", "img.acme.test")
        again = store.domains.save_check(dataclasses.replace(acme, state=VERIFIED, checked_at=30.0))
        assert again is not None and again.state == VERIFIED and store.domains.routed("img.acme.test") == again

    def test_the_plan_limit_counts_domains_not_removed(self, store: AccountStore) -> None:
        _workspaces(store, "acme")
        store.domains.add(Domain("a.acme.test", "acme"), limit=2)
        store.domains.add(Domain("b.acme.test", "acme"), limit=2)
        with pytest.raises(DomainLimitReached):
            store.domains.add(Domain("c.acme.test", "acme"), limit=2)
        assert store.domains.remove("acme", "a.acme.test") is not None
        assert store.domains.add(Domain("c.acme.test", "acme"), limit=2).state == PENDING

    def test_no_domain_without_its_workspace(self, store: AccountStore) -> None:
        with pytest.raises(WorkspaceMissing):
            store.domains.add(Domain("img.ghost.test", "ghost"), limit=5)

    def test_removed_keeps_history_and_frees_the_hostname(self, store: AccountStore) -> None:
        _workspaces(store, "acme", "rival")
        added = store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        removed = store.domains.remove("acme", "img.acme.test")
        assert removed is not None and removed.state == REMOVED
        assert store.domains.remove("acme", "img.acme.test") is None
        assert store.domains.get("acme", "img.acme.test") == removed
        assert store.domains.in_workspace("acme") == []
        again = store.domains.add(Domain("img.acme.test", "rival"), limit=2)
        assert again.namespace == "rival" and again.state == PENDING and again.token != added.token

    def test_remove_is_per_workspace(self, store: AccountStore) -> None:
        _workspaces(store, "acme", "rival")
        store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        assert store.domains.remove("rival", "img.acme.test") is None
        assert store.domains.get("rival", "img.acme.test") is None
        assert store.domains.get("acme", "img.acme.test").state == PENDING  # type: ignore[union-attr]

    def test_save_check_writes_the_result(self, store: AccountStore) -> None:
        _workspaces(store, "acme")
        added = store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        checked = Domain(added.hostname, "acme", VERIFIED, "", added.token, added.created_at, 123.0, 0)
        saved = store.domains.save_check(checked)
        assert saved == checked and store.domains.get("acme", "img.acme.test") == checked
        older = dataclasses.replace(checked, state=PENDING, reason="stale", checked_at=100.0)
        assert store.domains.save_check(older) is None  # a check that started earlier never overwrites
        assert store.domains.get("acme", "img.acme.test") == checked

    def test_save_check_never_revives_a_removed_or_re_added_domain(self, store: AccountStore) -> None:
        _workspaces(store, "acme")
        added = store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        store.domains.remove("acme", "img.acme.test")
        late = Domain(added.hostname, "acme", VERIFIED, "", added.token, added.created_at, 5.0, 0)
        assert store.domains.save_check(late) is None
        assert store.domains.get("acme", "img.acme.test").state == REMOVED  # type: ignore[union-attr]
        store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        assert store.domains.save_check(late) is None  # the old token: a check of the record that was removed
        assert store.domains.get("acme", "img.acme.test").state == PENDING  # type: ignore[union-attr]

    def test_claim_due_hands_each_domain_out_once(self, store: AccountStore) -> None:
        _workspaces(store, "acme")
        pending = store.domains.add(Domain("p.acme.test", "acme"), limit=5)
        verified = store.domains.add(Domain("v.acme.test", "acme"), limit=5)
        store.domains.save_check(Domain(verified.hostname, "acme", VERIFIED, "", verified.token, 0.0, 100.0, 0))
        failed = store.domains.add(Domain("f.acme.test", "acme"), limit=5)
        store.domains.save_check(Domain(failed.hostname, "acme", FAILED, "gone", failed.token, 0.0, 50.0, 3))
        store.domains.add(Domain("r.acme.test", "acme"), limit=5)
        store.domains.remove("acme", "r.acme.test")
        # Pending ones are due when checked before 10; the others when checked before 80: p (0) and f (50).
        claimed = store.domains.claim_due(now=200.0, pending_before=10.0, checked_before=80.0, limit=10)
        assert [d.hostname for d in claimed] == [pending.hostname, failed.hostname]
        assert all(d.checked_at == 200.0 for d in claimed)
        assert store.domains.claim_due(now=201.0, pending_before=10.0, checked_before=80.0, limit=10) == []
        assert [d.hostname for d in store.domains.claim_due(300.0, 250.0, 250.0, limit=1)] == [verified.hostname]

    def test_deleting_the_workspace_deletes_its_domains(self, store: AccountStore) -> None:
        _workspaces(store, "acme")
        store.domains.add(Domain("img.acme.test", "acme"), limit=2)
        store.delete_workspace("acme")
        assert store.domains.get("acme", "img.acme.test") is None
        store.create_workspace(Workspace("acme"))
        assert store.domains.in_workspace("acme") == []
