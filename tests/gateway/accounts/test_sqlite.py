"""What only the SQLite account store has: a file, migrations, and several processes sharing it.

The behaviour every account store shares is in ``contract.py``.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from gateway.accounts.audit import AuditEntry
from gateway.accounts.billing import Billing
from gateway.accounts.keys import PREFIX_LENGTH, digest, issue_api_key
from gateway.accounts.models import MarkPreset, Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.sqlite import MIGRATIONS, SqliteAccountStore
from gateway.accounts.store import LastOwner, WorkspaceConflict


def test_created_on_first_use_and_migrated_to_the_latest_version(tmp_path: Path) -> None:
    store = SqliteAccountStore(tmp_path / "var" / "accounts.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    # Opening again does not re-run migrations.
    again = SqliteAccountStore(tmp_path / "var" / "accounts.sqlite3")
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_schema_is_plain_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    SqliteAccountStore(path).close()
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "workspaces" in tables


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    store = SqliteAccountStore(path)
    created = store.create_workspace(Workspace(namespace="acme", origin_kind="http", origin={"base_url": "https://x/"}))
    mark = store.put_mark(MarkPreset("acme", "credit", kind="text", text="© Acme"))
    rule = store.add_rule("acme", "credit", ("*.jpg",), ())
    store.close()
    again = SqliteAccountStore(path)
    try:
        assert again.get_workspace("acme") == dataclasses.replace(created, revision=3)
        assert again.list_marks("acme") == [mark]
        assert again.list_rules("acme") == [rule]
    finally:
        again.close()


def test_two_processes_sharing_the_file_cannot_lose_each_others_writes(tmp_path: Path) -> None:
    """Two connections to one file stand for a gateway worker and the ``imgate`` command."""
    path = tmp_path / "a.sqlite3"
    cli, worker = SqliteAccountStore(path), SqliteAccountStore(path)
    try:
        cli.create_workspace(Workspace(namespace="acme"))
        read_by_cli, read_by_worker = cli.get_workspace("acme"), worker.get_workspace("acme")
        assert read_by_cli is not None and read_by_worker is not None
        worker.update_workspace(dataclasses.replace(read_by_worker, plan="pro"))
        with pytest.raises(WorkspaceConflict):
            cli.update_workspace(dataclasses.replace(read_by_cli, plan="business"))
        # A mark change through one connection makes records read through the other stale as well.
        fresh = cli.get_workspace("acme")
        assert fresh is not None and fresh.plan == "pro"
        worker.put_mark(MarkPreset("acme", "credit", kind="text", text="© Acme"))
        with pytest.raises(WorkspaceConflict):
            cli.update_workspace(dataclasses.replace(fresh, active=False))
    finally:
        cli.close()
        worker.close()


def test_deleting_a_workspace_leaves_no_rows_behind(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    store = SqliteAccountStore(path)
    store.create_workspace(Workspace(namespace="acme"))
    store.put_mark(MarkPreset("acme", "credit", kind="text", text="© Acme"))
    store.add_rule("acme", "credit", ("*.jpg",), ())
    user = store.create_user("alice@example.com")
    store.add_member("acme", user.user_id, "owner")
    _, key = issue_api_key(store, "acme", "Production")
    store.count_key_use(key.key_id, date(2026, 11, 23), 4)
    store.append_audit(AuditEntry(1.0, "acme", "cli", "workspace.create", 200, 1.0))
    assert store.delete_workspace("acme")
    store.close()
    with sqlite3.connect(path) as db:
        for table in ("workspaces", "marks", "mark_rules", "memberships", "api_keys", "api_key_use", "audit"):
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table  # noqa: S608
        assert db.execute("SELECT COUNT(*) FROM users").fetchone() == (1,)


def test_a_file_from_before_accounts_is_migrated_and_keeps_its_workspaces(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as db:
        for migration in MIGRATIONS[:2]:
            db.executescript(migration)
        db.execute(
            "INSERT INTO workspaces VALUES ('acme', 1, 'http', '{\"base_url\": \"https://x/\"}', '', '[\"*\"]', "
            "'[\"*\"]', '[]', 600, 'pro', '[]', 1700000000.0, 4)"
        )
        db.execute("PRAGMA user_version = 2")
    db.close()
    store = SqliteAccountStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        workspace = store.get_workspace("acme")
        assert workspace is not None
        assert (workspace.plan, workspace.revision, workspace.capture_retention) == ("pro", 4, 600)
        assert (workspace.limit_overrides, workspace.billing) == (PlanOverrides(), Billing())
        assert workspace.ip_allowlist == ()
        assert workspace.limits().requests_per_second == 100
        updated = store.update_workspace(dataclasses.replace(workspace, billing=Billing("cus_X1", "active")))
        assert store.find_workspace_by_stripe_customer("cus_X1") == updated
    finally:
        store.close()


def test_a_file_from_before_ip_allowlists_is_migrated_and_keeps_its_accounts(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    _file_at_version(path, 3)
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute(
            "INSERT INTO workspaces (namespace, active, origin_kind, origin, origin_secret_sealed, allowed_origins, "
            "allowed_sources, allowed_capture_domains, capture_retention, plan, purges, created_at, revision, "
            "stripe_customer_id) VALUES ('acme', 1, 'none', '{}', '', '[\"*\"]', '[\"*\"]', '[]', 600, "
            "'business', '[]', 1700000000.0, 7, 'cus_Old1')"
        )
    db.close()
    store = SqliteAccountStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        workspace = store.get_workspace("acme")
        assert workspace is not None and workspace.ip_allowlist == () and workspace.revision == 7
        assert workspace.billing.stripe_customer_id == "cus_Old1"
        updated = store.update_workspace(dataclasses.replace(workspace, ip_allowlist=("203.0.113.0/24",)))
        assert store.get_workspace("acme") == updated and updated.ip_allowlist == ("203.0.113.0/24",)
    finally:
        store.close()


def test_the_secret_of_a_key_is_never_in_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    store = SqliteAccountStore(path)
    store.create_workspace(Workspace(namespace="acme"))
    secret, key = issue_api_key(store, "acme", "Production", "write")
    store.touch_api_key(key.key_id)
    store.revoke_api_key("acme", key.prefix)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("a.sqlite3")]
    written = b"".join(p.read_bytes() for p in files)
    store.close()
    written += path.read_bytes()
    assert key.sha256.encode() in written and key.prefix.encode() in written
    assert secret.encode() not in written and secret[PREFIX_LENGTH:].encode() not in written


def test_a_revocation_through_one_connection_counts_at_once_on_the_other(tmp_path: Path) -> None:
    """The ``imgate`` command revokes; a gateway worker holding its own connection refuses the key next."""
    path = tmp_path / "a.sqlite3"
    cli, worker = SqliteAccountStore(path), SqliteAccountStore(path)
    try:
        cli.create_workspace(Workspace(namespace="acme"))
        secret, key = issue_api_key(cli, "acme", "Production")
        assert worker.find_api_key(digest(secret)) == key
        cli.revoke_api_key("acme", key.prefix)
        assert worker.find_api_key(digest(secret)) is None
    finally:
        cli.close()
        worker.close()


def test_the_last_owner_check_reads_what_other_connections_wrote(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    first, second = SqliteAccountStore(path), SqliteAccountStore(path)
    try:
        first.create_workspace(Workspace(namespace="acme"))
        owners = [first.create_user(f"owner{n}@example.com").user_id for n in range(2)]
        for user_id in owners:
            first.add_member("acme", user_id, "owner")
        assert first.remove_member("acme", owners[0])
        with pytest.raises(LastOwner):
            second.change_role("acme", owners[1], "member")
    finally:
        first.close()
        second.close()


def _file_at_version(path: Path, version: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for migration in MIGRATIONS[:version]:
        db.executescript(migration)
    db.execute(f"PRAGMA user_version = {version}")
    db.close()


def test_a_process_opening_the_file_while_another_migrates_it_does_not_migrate_twice(tmp_path: Path) -> None:
    """Granian workers start together after a deploy: the second one waits for the first one's migration."""
    path = tmp_path / "a.sqlite3"
    _file_at_version(path, len(MIGRATIONS) - 1)
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("BEGIN IMMEDIATE")  # the first worker is migrating
    opened: list[object] = []

    def second_worker() -> None:
        try:
            opened.append(SqliteAccountStore(path))
        except Exception as exc:
            opened.append(exc)

    thread = threading.Thread(target=second_worker)
    thread.start()
    time.sleep(0.3)  # the second worker has read the old version and waits for the write lock
    for statement in filter(str.strip, MIGRATIONS[-1].split(";")):
        first.execute(statement)
    first.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    first.execute("COMMIT")
    first.close()
    thread.join()
    store = opened[0]
    assert isinstance(store, SqliteAccountStore), store
    try:
        assert store.schema_version == len(MIGRATIONS)
        store.create_workspace(Workspace(namespace="acme", billing=Billing("cus_A1")))
    finally:
        store.close()


def test_a_file_from_a_later_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    _file_at_version(path, len(MIGRATIONS))
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        SqliteAccountStore(path)
