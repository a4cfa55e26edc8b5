"""``imgate signin prune`` as an operator runs it, against the SQLite account store of a data folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.accounts.signin import Session, SignInCode
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.admin.signin import CODE_KEPT_FOR, CODE_LIFETIME, MAX_AGE
from tests.integration.servers import imgate

pytestmark = pytest.mark.integration


def _code(n: int, created: float) -> SignInCode:
    return SignInCode(f"sic_{n:020x}", "ana@example.com", f"{n:064x}", "203.0.113.9", created, created + CODE_LIFETIME)


def test_prune_deletes_dead_codes_and_sessions_and_keeps_live_ones(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    data.mkdir()
    now = time.time()
    store = SqliteAccountStore(data / "imgate.sqlite3")
    try:
        user = store.create_user("ana@example.com")
        store.signins.add_code(_code(1, now - CODE_KEPT_FOR - CODE_LIFETIME - 60))
        store.signins.add_code(_code(2, now - 60))
        store.signins.add_session(Session(f"{1:064x}", user.user_id, now - MAX_AGE - 60, now - 3600))
        store.signins.add_session(Session(f"{2:064x}", user.user_id, now - 60, now - 60))
    finally:
        store.close()

    pruned = imgate(data, "signin", "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.strip() == "pruned 1 sign-in codes and 1 sessions"
    again = imgate(data, "signin", "prune")
    assert again.stdout.strip() == "pruned 0 sign-in codes and 0 sessions"

    store = SqliteAccountStore(data / "imgate.sqlite3")
    try:
        assert store.signins.count_codes(since=0) == 1
        assert store.signins.get_session(f"{2:064x}") is not None
        rows = store.list_audit("").entries
        assert [(row.actor, row.operation, row.status) for row in rows] == [("cli", "signin.prune", 200)] * 2
    finally:
        store.close()
    assert imgate(data, "signin").returncode == 2  # the action is required
