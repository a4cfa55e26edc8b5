"""``account_store`` chooses the store; an unknown value stops start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.accounts.factory import build_account_store
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.settings import Settings, SettingsError, load_settings


def test_sqlite_is_the_default_and_uses_the_database_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "var"), database=str(tmp_path / "accounts.sqlite3"))
    assert settings.account_store == "sqlite"
    store = build_account_store(settings)
    try:
        assert isinstance(store, SqliteAccountStore)
        store.create_workspace(Workspace(namespace="acme"))
    finally:
        store.close()
    assert (tmp_path / "accounts.sqlite3").is_file()


def test_memory_store_is_new_each_time(tmp_path: Path) -> None:
    settings = Settings(account_store="memory", data_dir=str(tmp_path / "var"))
    first, second = build_account_store(settings), build_account_store(settings)
    assert isinstance(first, MemoryAccountStore) and isinstance(second, MemoryAccountStore)
    first.create_workspace(Workspace(namespace="acme"))
    assert second.get_workspace("acme") is None
    assert not (tmp_path / "var").exists()  # nothing written to disk


def test_the_setting_is_read_from_the_environment() -> None:
    settings = load_settings(environ={"IMGATE_ACCOUNT_STORE": "memory"})
    assert settings.account_store == "memory"


@pytest.mark.parametrize("value", ["mysql", "SQLite", ""])
def test_unknown_stores_stop_start_up(value: str) -> None:
    with pytest.raises(SettingsError, match="account_store"):
        Settings(account_store=value)
