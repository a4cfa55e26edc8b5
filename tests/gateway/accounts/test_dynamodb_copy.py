"""``imgate store migrate --from sqlite --to dynamodb``: a filled SQLite install copied into a DynamoDB table on
moto's server, read back through both stores' protocol, copied again (nothing added), resumed after a loss,
refused over other data, and run as the command in a process of its own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gateway.accounts.audit import AuditEntry
from gateway.accounts.billing import Billing
from gateway.accounts.capture_jobs import CaptureJob
from gateway.accounts.domains import Domain
from gateway.accounts.dynamodb import INLINE_IMAGE, DynamoAccountStore
from gateway.accounts.dynamodb_copy import KINDS, CopyError, copy_sqlite_to_dynamodb
from gateway.accounts.keys import issue_api_key
from gateway.accounts.models import MarkPreset, Workspace
from gateway.accounts.signin import Session, SignInCode
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore, UserExists
from gateway.accounts.usage import UsageCounts
from loopback.ports import free_port
from tests.gateway.accounts.dynamodb_support import dynamodb_store, dynamodb_table  # noqa: F401 - a fixture
from tests.support.moto_server import DUMMY_SECRET, REGION

DAY = date(2026, 3, 14)
FIRST, LAST = date(2026, 1, 1), date(2026, 12, 31)
JOB = "cap_" + "1" * 24
HOOKED = "cap_" + "2" * 24
BIG_IMAGE = bytes(range(256)) * (INLINE_IMAGE // 256 + 100)  # over the inline cap: stored in chunks


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _fill(path: Path) -> None:
    store = SqliteAccountStore(path)
    try:
        store.create_workspace(Workspace(namespace="acme", plan="pro", billing=Billing(stripe_customer_id="cus_1")))
        store.create_workspace(Workspace(namespace="shop"))
        store.put_mark(MarkPreset(namespace="acme", name="logo", image_data=b"\x89PNG fake bytes"))
        store.put_mark(MarkPreset(namespace="acme", name="poster", image_data=BIG_IMAGE))
        store.add_rule("acme", "logo", ("products/*",), ())
        store.add_rule("acme", "logo", ("press/*",), (), position=1)
        store.add_rule("acme", "poster", ("posters/*",), (), position=2)
        ann = store.create_user("ann@example.com", at=100.0)
        bob = store.create_user("bob@example.com", at=101.0)
        store.add_member("acme", ann.user_id, "owner")
        store.add_member("acme", bob.user_id, "member")
        _, key = issue_api_key(store, "acme", "ci", "write")
        _, old = issue_api_key(store, "acme", "old", "read")
        store.touch_api_key(key.key_id, at=150.0)
        store.revoke_api_key("acme", old.prefix, at=160.0)
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
        # An ended job whose webhook is still to be delivered, then a queued one.
        store.capture_jobs.add(
            CaptureJob(HOOKED, "acme", "https://example.com/", "{}", 400.0), max_queued_workspace=5, max_queued_total=5
        )
        hooked = store.capture_jobs.claim("worker-1", now=450.0, lease=30.0, max_attempts=3)
        assert hooked is not None and store.capture_jobs.fail(
            HOOKED, "worker-1", "TIMEOUT", "t", 460.0, webhook_due_at=470.0
        )
        store.capture_jobs.add(
            CaptureJob(JOB, "acme", "https://example.com/", "{}", 500.0, auth_sealed="sealed"),
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
    keys = store.list_api_keys("acme")
    return {
        "workspaces": store.list_workspaces(),
        "customer": store.find_workspace_by_stripe_customer("cus_1"),
        "marks": store.list_marks("acme"),
        "rules": store.list_rules("acme"),
        "user": ann,
        "members": store.list_members("acme"),
        "memberships": store.list_memberships(ann.user_id),
        "keys": keys,
        "by_hash": [store.find_api_key(key.sha256) for key in keys],
        "key_use": store.list_key_use("acme", FIRST, LAST),
        "audit": store.list_audit("acme"),
        "audit_after_cursor": store.list_audit("acme", limit=1, cursor=store.list_audit("acme", limit=1).next_cursor),
        "usage": store.usage.days("acme", FIRST, LAST),
        "code": store.signins.newest_code("ann@example.com"),
        "session": store.signins.get_session(_digest("s")),
        "domains": store.domains.in_workspace("acme"),
        "job": store.capture_jobs.get(JOB),
        "jobs": store.capture_jobs.list_jobs("acme", limit=10),
        "secret": store.capture_jobs.webhook_secret("acme"),
    }


@pytest.fixture
def install(tmp_path: Path) -> Path:
    path = tmp_path / "imgate.sqlite3"
    _fill(path)
    return path


def _target(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(endpoint, table) of the module's table, emptied."""
    dynamodb_store(request).close()
    endpoint, table = request.getfixturevalue("dynamodb_table")
    return endpoint, table


def test_a_copy_reads_back_the_same_through_either_store(install: Path, request: pytest.FixtureRequest) -> None:
    endpoint, table = _target(request)
    done = copy_sqlite_to_dynamodb(install, table, region=REGION, endpoint_url=endpoint)
    assert [c.kind for c in done] == list(KINDS)
    assert all(c.source_records == c.copied == c.target_records for c in done)
    assert all(c.copied > 0 for c in done)  # every kind of record was there to copy
    sqlite, dynamo = SqliteAccountStore(install), DynamoAccountStore(table, region=REGION, endpoint_url=endpoint)
    try:
        assert _view(dynamo) == _view(sqlite)
        assert dynamo.list_marks("acme")[1].image_data == BIG_IMAGE
        # The copied ids are taken: the next rule and audit row get new ones, not those of copied rows.
        rule = dynamo.add_rule("acme", "logo", ("new/*",), ())
        assert rule.rule_id > max(r.rule_id for r in sqlite.list_rules("acme"))
        entry = dynamo.append_audit(
            AuditEntry(at=999.0, namespace="acme", actor="cli", operation="later", status=200, latency_ms=1.0)
        )
        assert entry.entry_id > max(e.entry_id for e in sqlite.list_audit("acme").entries)
        # Uniqueness holds over copied records as over written ones.
        assert dynamo.record_webhook_event("evt_1") is False
        with pytest.raises(UserExists):
            dynamo.create_user("bob@example.com")
        # The queued job is in the shared queue: a worker of any node can claim it.
        claimed = dynamo.capture_jobs.claim("worker-2", now=600.0, lease=30.0, max_attempts=3)
        assert claimed is not None and claimed.job_id == JOB
        # And the pending webhook is due there, for a worker of any node.
        due = dynamo.capture_jobs.claim_webhook(now=600.0, lease=30.0)
        assert due is not None and due.job_id == HOOKED
    finally:
        sqlite.close()
        dynamo.close()


def test_a_second_run_adds_nothing_and_a_stopped_one_resumes(install: Path, request: pytest.FixtureRequest) -> None:
    endpoint, table = _target(request)
    copy_sqlite_to_dynamodb(install, table, region=REGION, endpoint_url=endpoint)
    again = copy_sqlite_to_dynamodb(install, table, region=REGION, endpoint_url=endpoint)
    assert all(c.copied == 0 and c.source_records == c.target_records for c in again)
    # As if the first run had stopped before the audit rows and the usage counters.
    lost = DynamoAccountStore(table, region=REGION, endpoint_url=endpoint)
    try:
        gone = [
            ("WS#acme", str(item["SK"]["S"]))
            for item in lost.table.query("WS#acme")
            if str(item["SK"]["S"]).startswith(("AUDIT#", "USAGE#"))
        ]
        assert len(gone) == 4
        lost.table.delete_all(gone)
        assert not lost.list_audit("acme").entries
        copied = {
            c.kind: c.copied for c in copy_sqlite_to_dynamodb(install, table, region=REGION, endpoint_url=endpoint)
        }
        assert copied["audit"] == 3 and copied["usage_days"] == 1
        assert sum(copied.values()) == 4
        assert [e.operation for e in lost.list_audit("acme").entries] == ["op2", "op1", "op0"]
        assert lost.usage.days("acme", FIRST, LAST)[0].errors == {"NOT_FOUND": 1}
    finally:
        lost.close()


def test_a_table_with_other_data_is_refused_by_the_count_check(install: Path, request: pytest.FixtureRequest) -> None:
    endpoint, table = _target(request)
    other = DynamoAccountStore(table, region=REGION, endpoint_url=endpoint)
    try:
        other.create_workspace(Workspace(namespace="elsewhere"))
    finally:
        other.close()
    with pytest.raises(CopyError, match="workspaces"):
        copy_sqlite_to_dynamodb(install, table, region=REGION, endpoint_url=endpoint)


def test_another_installs_user_with_the_same_address_is_a_clear_error(
    install: Path, request: pytest.FixtureRequest
) -> None:
    endpoint, table = _target(request)
    other = DynamoAccountStore(table, region=REGION, endpoint_url=endpoint)
    try:
        other.create_user("ann@example.com")
    finally:
        other.close()
    with pytest.raises(CopyError, match="users collides"):
        copy_sqlite_to_dynamodb(install, table, region=REGION, endpoint_url=endpoint)


def _command(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "store", "migrate", "--from", "sqlite", "--to", "dynamodb"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_copies_and_prints_the_counts(
    install: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    endpoint, table = _target(request)
    env = {
        **os.environ,
        "IMGATE_DATA_DIR": str(tmp_path / "var"),
        "IMGATE_DATABASE": str(install),
        "IMGATE_DYNAMODB_TABLE": table,
        "IMGATE_DYNAMODB_REGION": REGION,
        "IMGATE_DYNAMODB_ENDPOINT": endpoint,
    }
    done = _command(env)
    assert done.returncode == 0, done.stderr
    assert "workspaces\t2 in sqlite\t2 copied\t2 in dynamodb" in done.stdout
    assert "audit\t3 in sqlite\t3 copied\t3 in dynamodb" in done.stdout
    assert "every count checked" in done.stdout
    again = _command(env)
    assert again.returncode == 0 and "workspaces\t2 in sqlite\t0 copied\t2 in dynamodb" in again.stdout
    unreachable = f"http://127.0.0.1:{free_port()}"
    failed = _command({**env, "IMGATE_DYNAMODB_ENDPOINT": unreachable})
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: DynamoDB refused or could not be reached")
    assert DUMMY_SECRET not in failed.stderr + failed.stdout and unreachable not in failed.stderr
