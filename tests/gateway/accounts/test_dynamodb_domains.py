"""What the DynamoDB domain store adds to the domain contract: the routed copy of the verified claim (one item read
per request) follows every write that changes who is routed, across nodes sharing the table."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.accounts.domains import FAILED, VERIFIED, VERIFIED_ELSEWHERE, Domain, DomainTaken
from gateway.accounts.dynamodb import DynamoAccountStore
from gateway.accounts.dynamodb_copy import copy_sqlite_to_dynamodb
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from tests.gateway.accounts.dynamodb_support import dynamodb_store, dynamodb_table  # noqa: F401 - a fixture
from tests.support.moto_server import REGION

HOST = "img.acme.test"


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[DynamoAccountStore]:
    backend = dynamodb_store(request)
    try:
        yield backend
    finally:
        backend.close()


def _verified(store: DynamoAccountStore, namespace: str, checked_at: float) -> Domain:
    added = store.domains.add(Domain(HOST, namespace), limit=5)
    saved = store.domains.save_check(dataclasses.replace(added, state=VERIFIED, checked_at=checked_at))
    assert saved is not None and saved.state == VERIFIED
    return saved


def test_a_failed_check_and_a_removal_stop_the_routing_at_once(store: DynamoAccountStore) -> None:
    for name in ("acme", "rival"):
        store.create_workspace(Workspace(name))
    won = _verified(store, "acme", 10.0)
    assert store.domains.routed(HOST) == won
    # Still verified after one failed re-check (the check service decides): the routed copy follows the claim.
    kept = store.domains.save_check(dataclasses.replace(won, reason="no CNAME", failures=1, checked_at=20.0))
    assert kept is not None and store.domains.routed(HOST) == kept and kept.failures == 1
    lost = store.domains.save_check(dataclasses.replace(won, state=FAILED, reason="no CNAME", checked_at=30.0))
    assert lost is not None and lost.state == FAILED and store.domains.routed(HOST) is None
    again = store.domains.save_check(dataclasses.replace(won, checked_at=40.0))
    assert again is not None and store.domains.routed(HOST) == again
    store.domains.remove("acme", HOST)
    assert store.domains.routed(HOST) is None
    # The name is free: another workspace proves it and is routed.
    assert _verified(store, "rival", 50.0) == store.domains.routed(HOST)


def test_deleting_the_workspace_stops_its_routing_and_frees_the_name(store: DynamoAccountStore) -> None:
    for name in ("acme", "rival"):
        store.create_workspace(Workspace(name))
    _verified(store, "acme", 10.0)
    assert store.delete_workspace("acme")
    assert store.domains.routed(HOST) is None
    assert _verified(store, "rival", 20.0).namespace == "rival"


def test_a_re_check_claim_keeps_the_routed_copy_in_step(store: DynamoAccountStore) -> None:
    store.create_workspace(Workspace("acme"))
    _verified(store, "acme", 10.0)
    claimed = store.domains.claim_due(now=500.0, pending_before=0.0, checked_before=100.0, limit=5)
    assert [d.checked_at for d in claimed] == [500.0]
    assert store.domains.routed(HOST) == store.domains.get("acme", HOST) == claimed[0]


def _race(nodes: tuple[DynamoAccountStore, DynamoAccountStore], host: str) -> list[Domain | None]:
    """Both nodes save a verifying check of their own workspace's claim on ``host`` at the same moment."""
    claims = [
        node.domains.add(Domain(host, name), limit=10) for node, name in zip(nodes, ("acme", "rival"), strict=True)
    ]
    start = threading.Barrier(2)
    results: list[Domain | None] = [None, None]

    def verify(index: int) -> None:
        start.wait()
        results[index] = nodes[index].domains.save_check(
            dataclasses.replace(claims[index], state=VERIFIED, checked_at=10.0)
        )

    threads = [threading.Thread(target=verify, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_nodes_verifying_rival_claims_at_once_route_exactly_one(
    store: DynamoAccountStore, request: pytest.FixtureRequest
) -> None:
    endpoint, table = request.getfixturevalue("dynamodb_table")
    other = DynamoAccountStore(table, region=REGION, endpoint_url=endpoint)
    try:
        for name in ("acme", "rival"):
            store.create_workspace(Workspace(name))
        for round_ in range(4):
            host = f"r{round_}.acme.test"
            results = _race((store, other), host)
            states = sorted((d.state, d.reason) for d in results if d is not None)
            assert states == [(FAILED, VERIFIED_ELSEWHERE), (VERIFIED, "")]
            routed = other.domains.routed(host)
            assert routed is not None and routed == store.domains.get(routed.namespace, host)
            loser = "rival" if routed.namespace == "acme" else "acme"
            assert store.domains.get(loser, host).state == FAILED  # type: ignore[union-attr]
    finally:
        other.close()


def test_a_domain_copied_from_sqlite_routes_as_it_did(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    dynamodb_store(request).close()  # the module's table, emptied
    endpoint, table = request.getfixturevalue("dynamodb_table")
    path = tmp_path / "imgate.sqlite3"
    sqlite = SqliteAccountStore(path)
    try:
        sqlite.create_workspace(Workspace("acme"))
        added = sqlite.domains.add(Domain(HOST, "acme"), limit=5)
        routed = sqlite.domains.save_check(dataclasses.replace(added, state=VERIFIED, checked_at=10.0))
        sqlite.domains.add(Domain("pending.acme.test", "acme"), limit=5)
    finally:
        sqlite.close()
    copy_sqlite_to_dynamodb(path, table, region=REGION, endpoint_url=endpoint)
    dynamo = DynamoAccountStore(table, region=REGION, endpoint_url=endpoint)
    try:
        assert routed is not None and dynamo.domains.routed(HOST) == routed
        assert dynamo.domains.routed("pending.acme.test") is None
        dynamo.create_workspace(Workspace("rival"))
        # The copied verified claim holds the name here too; a copied pending one loses to a proof made here.
        with pytest.raises(DomainTaken):
            dynamo.domains.add(Domain(HOST, "rival"), limit=5)
        rival = dynamo.domains.add(Domain("pending.acme.test", "rival"), limit=5)
        assert dynamo.domains.save_check(dataclasses.replace(rival, state=VERIFIED, checked_at=20.0)) is not None
        assert dynamo.domains.get("acme", "pending.acme.test").state == FAILED  # type: ignore[union-attr]
    finally:
        dynamo.close()
