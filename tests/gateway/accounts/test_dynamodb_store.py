"""What the DynamoDB account store adds to the contract suites: two nodes racing on one table, mark images over
DynamoDB's item size, expired items that DynamoDB has not deleted yet, and the table it creates.

Every test runs against moto's server mode over real HTTP; "two nodes" are two stores with clients of their own.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.accounts.dynamodb import DynamoAccountStore
from gateway.accounts.factory import build_account_store
from gateway.accounts.models import MarkPreset, Workspace
from gateway.accounts.signin import Session
from gateway.accounts.store import UserExists, WorkspaceConflict, WorkspaceExists
from gateway.settings import Settings, SettingsError
from tests.gateway.accounts.dynamodb_support import dynamodb_store, dynamodb_table  # noqa: F401 - a fixture
from tests.support.moto_server import REGION


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[DynamoAccountStore]:
    backend = dynamodb_store(request)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def other_node(dynamodb_table: tuple[str, str], store: DynamoAccountStore) -> Iterator[DynamoAccountStore]:  # noqa: F811
    """A second store on the same table, as another gateway node would open it."""
    endpoint, name = dynamodb_table
    node = DynamoAccountStore(name, region=REGION, endpoint_url=endpoint)
    try:
        yield node
    finally:
        node.close()


def _race(*calls: Callable[[], object]) -> list[object]:
    """Run ``calls`` at the same moment; what each answered or raised."""
    outcomes: list[object] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_writers_on_one_revision_one_wins_the_other_conflicts(
    store: DynamoAccountStore, other_node: DynamoAccountStore
) -> None:
    store.create_workspace(Workspace(namespace="acme"))
    mine = store.get_workspace("acme")
    theirs = other_node.get_workspace("acme")
    assert mine is not None and theirs is not None and mine.revision == theirs.revision == 1
    outcomes = _race(
        lambda: store.update_workspace(Workspace(namespace="acme", revision=1, fallback_image="a.png")),
        lambda: other_node.update_workspace(Workspace(namespace="acme", revision=1, fallback_image="b.png")),
    )
    winners = [o for o in outcomes if isinstance(o, Workspace)]
    losers = [o for o in outcomes if isinstance(o, WorkspaceConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert (losers[0].given, losers[0].stored) == (1, 2)
    stored = other_node.get_workspace("acme")
    assert stored is not None and stored.revision == 2
    assert stored.fallback_image == winners[0].fallback_image


def test_many_writers_each_revision_is_won_once(store: DynamoAccountStore, other_node: DynamoAccountStore) -> None:
    store.create_workspace(Workspace(namespace="acme"))
    won: list[int] = []

    def writer(node: DynamoAccountStore) -> None:
        for _ in range(5):
            current = node.get_workspace("acme")
            assert current is not None
            try:
                node.update_workspace(current)
            except WorkspaceConflict:
                continue
            won.append(current.revision)

    threads = [threading.Thread(target=writer, args=(node,)) for node in (store, other_node, store, other_node)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = store.get_workspace("acme")
    assert final is not None
    # Every revision from 1 on was the base of exactly one successful write: none was lost or applied twice.
    assert sorted(won) == list(range(1, final.revision))


def test_two_nodes_creating_one_namespace_or_email_one_succeeds(
    store: DynamoAccountStore, other_node: DynamoAccountStore
) -> None:
    outcomes = _race(
        lambda: store.create_workspace(Workspace(namespace="acme")),
        lambda: other_node.create_workspace(Workspace(namespace="acme")),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Workspace", "WorkspaceExists"]
    assert isinstance(next(o for o in outcomes if not isinstance(o, Workspace)), WorkspaceExists)
    outcomes = _race(lambda: store.create_user("Ana@Example.com"), lambda: other_node.create_user("ana@example.com"))
    assert sum(isinstance(o, UserExists) for o in outcomes) == 1
    assert len(store.list_workspaces()) == 1


def test_a_mark_image_over_the_item_size_is_stored_in_chunks(store: DynamoAccountStore, corpus: Path) -> None:
    store.create_workspace(Workspace(namespace="acme"))
    big = os.urandom(1_100_000)  # over DynamoDB's 400 KB item limit, and over three chunks
    store.put_mark(MarkPreset("acme", "logo", kind="image", image_data=big))
    (mark,) = store.list_marks("acme")
    assert mark.image_data == big
    chunks = list(store.table.query("WS#acme", prefix="MARKIMG#logo#"))
    assert len(chunks) == 4 and all(len(chunk["img"]["B"]) < 400_000 for chunk in chunks)
    # Replacing it leaves no chunk of the old image behind; a small image goes back inline.
    small = next(p for p in sorted(corpus.iterdir()) if p.suffix == ".png").read_bytes()[:200_000]
    store.put_mark(MarkPreset("acme", "logo", kind="image", image_data=small))
    assert [m.image_data for m in store.list_marks("acme")] == [small]
    assert list(store.table.query("WS#acme", prefix="MARKIMG#")) == []
    store.put_mark(MarkPreset("acme", "logo", kind="image", image_data=big))
    assert store.delete_mark("acme", "logo")
    assert list(store.table.query("WS#acme", prefix="MARK")) == []


def test_items_past_their_ttl_are_not_answered_before_dynamodb_deletes_them(store: DynamoAccountStore) -> None:
    session = Session(digest="a" * 64, user_id="usr_1", created_at=1000.0, last_seen_at=1000.0)
    store.signins.add_session(session)
    assert store.signins.get_session(session.digest) == session
    # DynamoDB deletes expired items up to days late: the item is still there, with its TTL in the past.
    store.table.update(
        f"SESSION#{session.digest}",
        "SESSION",
        "SET #ttl = :past",
        values={":past": {"N": str(int(time.time()) - 1)}},
        names={"#ttl": "ttl"},
    )
    assert store.table.client.get_item(
        TableName=store.table.name, Key={"PK": {"S": f"SESSION#{session.digest}"}, "SK": {"S": "SESSION"}}
    ).get("Item")
    assert store.signins.get_session(session.digest) is None


def test_the_table_is_created_with_its_indexes_and_ttl(store: DynamoAccountStore) -> None:
    described = store.table.client.describe_table(TableName=store.table.name)["Table"]
    assert {index["IndexName"] for index in described["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    ttl = store.table.client.describe_time_to_live(TableName=store.table.name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


def test_the_factory_builds_it_from_settings_and_can_leave_the_table_alone(
    dynamodb_table: tuple[str, str],  # noqa: F811
) -> None:
    endpoint, name = dynamodb_table
    settings = Settings(
        account_store="dynamodb", dynamodb_table=f"{name}-managed", dynamodb_region=REGION, dynamodb_endpoint=endpoint
    )
    built = build_account_store(settings)
    try:
        assert isinstance(built, DynamoAccountStore)
        built.create_workspace(Workspace(namespace="acme"))
        assert [ws.namespace for ws in built.list_workspaces()] == ["acme"]
    finally:
        built.close()
    unmanaged = Settings(
        account_store="dynamodb",
        dynamodb_table=f"{name}-absent",
        dynamodb_region=REGION,
        dynamodb_endpoint=endpoint,
        dynamodb_create_table=False,
    )
    skipped = build_account_store(unmanaged)
    try:
        names = skipped.table.client.list_tables()["TableNames"]  # type: ignore[attr-defined]
        assert f"{name}-absent" not in names and f"{name}-managed" in names
    finally:
        skipped.close()


def test_no_region_anywhere_stops_start_up_naming_the_setting(
    dynamodb_table: tuple[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    settings = Settings(account_store="dynamodb", dynamodb_table=dynamodb_table[1], dynamodb_endpoint=dynamodb_table[0])
    with pytest.raises(SettingsError, match="dynamodb_region"):
        build_account_store(settings)
