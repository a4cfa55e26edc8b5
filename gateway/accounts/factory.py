"""The one place an ``AccountStore`` is chosen: by the ``account_store`` setting (and its capture job store by
``capture_jobs_store``: the account store's own, or Redis for many nodes, so every process, the ``imgate``
command included, reads and writes the same jobs).

A new backend (DynamoDB, say) is one more case here, one more value in the setting's check in
``gateway.settings``, and one more parameter of the account store contract suite. Backends are imported only
when chosen, so a deployment never imports the client library of a store it does not use.
"""

from __future__ import annotations

from gateway.accounts.store import AccountStore
from gateway.settings import Settings, SettingsError


def build_account_store(settings: Settings) -> AccountStore:
    """A new store; the caller closes it. SQLite and PostgreSQL create and migrate their schema on first use,
    DynamoDB creates its table unless ``dynamodb_create_table`` is off."""
    store = _account_store(settings)
    if settings.capture_jobs_store == "redis":
        from gateway.accounts.redis_capture_jobs import RedisCaptureJobStore

        store.capture_jobs = RedisCaptureJobStore(settings.redis_url)
    return store


def _account_store(settings: Settings) -> AccountStore:
    match settings.account_store:
        case "sqlite":
            from gateway.accounts.sqlite import SqliteAccountStore

            return SqliteAccountStore(settings.database_path)
        case "postgres":
            from gateway.accounts.postgres import PostgresAccountStore

            return PostgresAccountStore(settings.database_url, max_connections=settings.database_pool_size)
        case "dynamodb":
            from botocore.exceptions import NoRegionError  # type: ignore[import-untyped]

            from gateway.accounts.dynamodb import DynamoAccountStore

            try:
                return DynamoAccountStore(
                    settings.dynamodb_table,
                    region=settings.dynamodb_region,
                    endpoint_url=settings.dynamodb_endpoint,
                    create_table=settings.dynamodb_create_table,
                    audit_retention_days=settings.audit_retention_days,
                )
            except NoRegionError:
                raise SettingsError(
                    "setting 'dynamodb_region' is empty and the AWS environment names no region"
                ) from None
        case "memory":
            from gateway.accounts.memory import MemoryAccountStore

            return MemoryAccountStore()
    # Settings refuse any other value at start-up; this keeps a half-added backend from passing unnoticed.
    raise SettingsError(f"setting 'account_store': no store named {settings.account_store!r}")
