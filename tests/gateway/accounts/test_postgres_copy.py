"""``imgate store migrate --from sqlite --to postgres``: a filled SQLite install copied into PostgreSQL, read back
through both stores' public API, copied again (nothing added), resumed after a loss, refused over other data."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from gateway.accounts.audit import AuditEntry
from gateway.accounts.capture_jobs import CaptureJob
from gateway.accounts.domains import Domain
from gateway.accounts.keys import issue_api_key
from gateway.accounts.models import MarkPreset, Workspace
from gateway.accounts.postgres import PostgresAccountStore
from gateway.accounts.postgres_copy import TABLES, CopyError, copy_sqlite_to_postgres
from gateway.accounts.signin import Session, SignInCode
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from gateway.accounts.usage import UsageCounts
from gateway.cli.main import main
from tests.gateway.accounts.postgres_support import postgres_dsn, postgres_store  # noqa: F401 - a fixture

DAY = date(2026, 3, 14)
FIRST, LAST = date(2026, 1, 1), date(2026, 12, 31)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _fill(path: Path) -> None:
    store = SqliteAccountStore(path)
    try:
        store.create_workspace(Workspace(namespace="acme", plan="pro"))
        store.create_workspace(Workspace(namespace="shop"))
        store.put_mark(MarkPreset(namespace="acme", name="logo", image_data=b"\x89PNG fake bytes"))
        store.add_rule("acme", "logo", ("products/*",), ())
        store.add_rule("acme", "logo", ("press/*",), (), position=1)
        ann = store.create_user("ann@example.com", at=100.0)
        store.add_member("acme", ann.user_id, "owner")
        _, key = issue_api_key(store, "acme", "ci", "write")
        store.count_key_use(key.key_id, DAY, 7)
        for n in range(3):
            store.append_audit(
                AuditEntry(at=200.0 + n, namespace="acme", actor="cli", operation=f"op{n}", status=200, latency_ms=1.5)
            )
        store.record_webhook_event("evt_1", at=300.0)
        store.usage.add("acme", DAY, UsageCounts(requests=5, renders=2, bytes_out=999, errors={"NOT_FOUND": 1}))
        store.signins.add_code(
            SignInCode("sic_" + "a" * 20, "ann@example.com", _digest("c"), "127.0.0.1", 400.0, 900.0)
        )
        store.signins.add_session(Session(_digest("s"), ann.user_id, 400.0, 450.0))
        store.domains.add(Domain("img.acme.example", "acme"), limit=5)
        store.capture_jobs.add(
            CaptureJob("cap_" + "1" * 24, "acme", "https://example.com/", "{}", 500.0, auth_sealed="sealed"),
            max_queued_workspace=5,
            max_queued_total=5,
        )
        store.capture_jobs.heartbeat("worker-1", 500.0)
        store.capture_jobs.set_webhook_secret("acme", "sealed-secret", 500.0)
    finally:
        store.close()


def _view(store: AccountStore) -> dict[str, object]:
    """Everything the fill wrote, read through the protocol."""
    ann = store.get_user_by_email("ann@example.com")
    assert ann is not None
    return {
        "workspaces": store.list_workspaces(),
        "marks": store.list_marks("acme"),
        "rules": store.list_rules("acme"),
        "user": ann,
        "members": store.list_members("acme"),
        "keys": store.list_api_keys("acme"),
        "key_use": store.list_key_use("acme", FIRST, LAST),
        "audit": store.list_audit("acme"),
        "usage": store.usage.days("acme", FIRST, LAST),
        "code": store.signins.newest_code("ann@example.com"),
        "session": store.signins.get_session(_digest("s")),
        "domains": store.domains.in_workspace("acme"),
        "job": store.capture_jobs.get("cap_" + "1" * 24),
        "secret": store.capture_jobs.webhook_secret("acme"),
    }


@pytest.fixture
def install(tmp_path: Path) -> Path:
    path = tmp_path / "imgate.sqlite3"
    _fill(path)
    return path


def test_a_copy_reads_back_the_same_through_either_store(install: Path, request: pytest.FixtureRequest) -> None:
    postgres_store(request).close()  # an empty database
    dsn: str = request.getfixturevalue("postgres_dsn")
    done = copy_sqlite_to_postgres(install, dsn)
    assert [c.table for c in done] == list(TABLES)
    assert all(c.source_rows == c.copied == c.target_rows for c in done)
    assert sum(c.copied for c in done) > len(TABLES)  # every kind of row was there to copy
    sqlite, postgres = SqliteAccountStore(install), PostgresAccountStore(dsn)
    try:
        assert _view(postgres) == _view(sqlite)
        # The copied ids are taken: the next rule gets a new one, not the id of a copied rule.
        rule = postgres.add_rule("acme", "logo", ("new/*",), ())
        assert rule.rule_id not in {r.rule_id for r in sqlite.list_rules("acme")}
        assert postgres.record_webhook_event("evt_1") is False  # a replay stays a replay after the move
    finally:
        sqlite.close()
        postgres.close()


def test_a_second_run_adds_nothing_and_a_stopped_one_resumes(install: Path, request: pytest.FixtureRequest) -> None:
    postgres_store(request).close()
    dsn: str = request.getfixturevalue("postgres_dsn")
    copy_sqlite_to_postgres(install, dsn)
    assert all(c.copied == 0 for c in copy_sqlite_to_postgres(install, dsn))
    # As if the first run had stopped before the audit rows and the usage counters.
    lost = PostgresAccountStore(dsn)
    try:
        lost.execute("DELETE FROM audit")
        lost.execute("DELETE FROM usage_days")
        copied = {c.table: c.copied for c in copy_sqlite_to_postgres(install, dsn)}
        assert copied["audit"] == 3 and copied["usage_days"] == 1
        assert sum(copied.values()) == 4
        assert [e.operation for e in lost.list_audit("acme").entries] == ["op2", "op1", "op0"]
    finally:
        lost.close()


def test_a_database_with_other_data_is_refused_by_the_count_check(
    install: Path, request: pytest.FixtureRequest
) -> None:
    other = postgres_store(request)
    try:
        other.create_workspace(Workspace(namespace="elsewhere"))
    finally:
        other.close()
    with pytest.raises(CopyError, match="workspaces"):
        copy_sqlite_to_postgres(install, request.getfixturevalue("postgres_dsn"))


def test_the_command_copies_and_prints_the_counts(
    install: Path,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    postgres_store(request).close()
    dsn: str = request.getfixturevalue("postgres_dsn")
    monkeypatch.setenv("IMGATE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("IMGATE_DATABASE", str(install))
    monkeypatch.setenv("IMGATE_DATABASE_URL", dsn)
    assert main(["store", "migrate", "--from", "sqlite", "--to", "postgres"]) == 0
    out = capsys.readouterr().out
    assert "workspaces\t2 in sqlite\t2 copied\t2 in postgres" in out
    assert "every count checked" in out
    monkeypatch.setenv("IMGATE_DATABASE_URL", "host=127.0.0.1 port=1 user=postgres password=hunter2 connect_timeout=1")
    assert main(["store", "migrate", "--from", "sqlite", "--to", "postgres"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: PostgreSQL refused or could not be reached") and "hunter2" not in err
