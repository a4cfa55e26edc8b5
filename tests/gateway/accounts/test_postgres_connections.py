"""Every connection of the PostgreSQL account store carries libpq's TCP bounds; a DSN's own values win."""

from __future__ import annotations

from gateway.accounts.postgres import TCP_BOUNDS, PostgresAccountStore
from tests.gateway.accounts.postgres_support import postgres_dsn  # noqa: F401 - a fixture


def connection_parameters(store: PostgresAccountStore) -> dict[str, str]:
    with store.transaction() as db:  # a connection from the store's pool
        return db.info.get_parameters()


def test_the_pool_connections_carry_the_tcp_bounds(postgres_dsn: str) -> None:  # noqa: F811
    store = PostgresAccountStore(postgres_dsn)
    try:
        parameters = connection_parameters(store)
    finally:
        store.close()
    assert {name: parameters.get(name) for name in TCP_BOUNDS} == {
        name: str(value) for name, value in TCP_BOUNDS.items()
    }


def test_a_bound_the_dsn_sets_is_kept(postgres_dsn: str) -> None:  # noqa: F811
    store = PostgresAccountStore(f"{postgres_dsn} keepalives_idle=45 tcp_user_timeout=30000")
    try:
        parameters = connection_parameters(store)
    finally:
        store.close()
    assert (parameters.get("keepalives_idle"), parameters.get("tcp_user_timeout")) == ("45", "30000")
    assert parameters.get("keepalives_count") == str(TCP_BOUNDS["keepalives_count"])
