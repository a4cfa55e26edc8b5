"""The one place an ``AccountStore`` is chosen: by the ``account_store`` setting.

A new backend (PostgreSQL, DynamoDB) is one more case here, one more value in the setting's check in
``gateway.settings``, and one more parameter of the account store contract suite. Backends are imported only
when chosen, so a deployment never imports the client library of a store it does not use.
"""

from __future__ import annotations

from gateway.accounts.store import AccountStore
from gateway.settings import Settings, SettingsError


def build_account_store(settings: Settings) -> AccountStore:
    """A new store; the caller closes it. SQLite creates and migrates its file on first use."""
    match settings.account_store:
        case "sqlite":
            from gateway.accounts.sqlite import SqliteAccountStore

            return SqliteAccountStore(settings.database_path)
        case "memory":
            from gateway.accounts.memory import MemoryAccountStore

            return MemoryAccountStore()
    # Settings refuse any other value at start-up; this keeps a half-added backend from passing unnoticed.
    raise SettingsError(f"setting 'account_store': no store named {settings.account_store!r}")
