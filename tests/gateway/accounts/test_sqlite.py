from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from gateway.accounts.models import PurgeMarker, Workspace
from gateway.accounts.sqlite import MIGRATIONS, SqliteAccountStore
from gateway.accounts.store import WorkspaceExists, WorkspaceMissing


def test_created_on_first_use_and_migrated_to_the_latest_version(tmp_path: Path) -> None:
    store = SqliteAccountStore(tmp_path / "var" / "accounts.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    # Opening again does not re-run migrations.
    again = SqliteAccountStore(tmp_path / "var" / "accounts.sqlite3")
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_workspace_round_trip_and_revisions(tmp_path: Path) -> None:
    store = SqliteAccountStore(tmp_path / "a.sqlite3")
    created = store.create_workspace(
        Workspace(
            namespace="acme",
            origin_kind="http",
            origin={"base_url": "https://img.example.com/"},
            allowed_origins=("https://shop.example.com",),
            purges=(PurgeMarker("a/", 12.5),),
        )
    )
    assert created.revision == 1 and created.created_at > 0
    assert store.get_workspace("acme") == created
    with pytest.raises(WorkspaceExists):
        store.create_workspace(Workspace(namespace="acme"))
    updated = store.update_workspace(dataclasses.replace(created, active=False, plan="pro"))
    assert updated.revision == 2 and updated.created_at == created.created_at
    assert store.get_workspace("acme") == updated
    assert [w.namespace for w in store.list_workspaces()] == ["acme"]
    with pytest.raises(WorkspaceMissing):
        store.update_workspace(Workspace(namespace="ghost"))
    assert store.delete_workspace("acme") and store.get_workspace("acme") is None
    store.close()


def test_schema_is_plain_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    SqliteAccountStore(path).close()
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "workspaces" in tables


@pytest.mark.parametrize("bad", ["a", "-acme", "Acme", "acme_1", "a" * 64, "ac me", "_"])
def test_namespace_rules(bad: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        Workspace(namespace=bad)


def test_purge_markers_cover_prefixes() -> None:
    ws = Workspace(namespace="acme", purges=(PurgeMarker("a/", 10.0), PurgeMarker("", 5.0), PurgeMarker("b", 20.0)))
    assert ws.purged_after("a/x.jpg") == 10.0
    assert ws.purged_after("c.jpg") == 5.0
    assert ws.purged_after("b/y.jpg") == 20.0


def test_marks_and_ordered_rules(tmp_path: Path) -> None:
    from gateway.accounts.models import MarkPreset

    store = SqliteAccountStore(tmp_path / "a.sqlite3")
    ws = store.create_workspace(Workspace(namespace="acme"))
    logo = store.put_mark(MarkPreset("acme", "logo", image_data=b"\x89PNG...", alpha=60, scale=0.2))
    store.put_mark(MarkPreset("acme", "credit", kind="text", text="© Acme"))
    assert [m.name for m in store.list_marks("acme")] == ["credit", "logo"]
    assert store.list_marks("acme")[1] == logo and logo.updated_at > 0
    first = store.add_rule("acme", "logo", ("premium/**",), ())
    second = store.add_rule("acme", "credit", ("*.png",), ("cdn.example.com",))
    third = store.add_rule("acme", "logo", ("x/*",), (), position=1)
    assert [r.rule_id for r in store.list_rules("acme")] == [third.rule_id, first.rule_id, second.rule_id]
    store.move_rule("acme", second.rule_id, 1)
    assert [r.rule_id for r in store.list_rules("acme")] == [second.rule_id, third.rule_id, first.rule_id]
    assert [r.position for r in store.list_rules("acme")] == [1, 2, 3]
    with pytest.raises(ValueError, match="rule"):
        store.delete_mark("acme", "logo")
    with pytest.raises(ValueError, match="preset"):
        store.add_rule("acme", "ghost", ("*",), ())
    assert store.delete_rule("acme", first.rule_id) and store.delete_rule("acme", third.rule_id)
    assert store.delete_mark("acme", "logo")
    # Every change bumped the workspace revision, so tenancy caches reload marks and rules.
    current = store.get_workspace("acme")
    assert current is not None and current.revision > ws.revision + 5
    store.delete_workspace("acme")
    assert store.list_marks("acme") == [] and store.list_rules("acme") == []
    store.close()
