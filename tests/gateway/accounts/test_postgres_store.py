"""What the PostgreSQL account store adds to the contract suites: nodes racing on one database.

Two stores on one database stand for two gateway nodes (each has its own pool, so its own connections and
transactions). The races are started together on a barrier and repeated, and every round must come out
exactly one way: one winner, the other refused with the protocol's error.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import psycopg
import pytest
from psycopg import sql

from gateway.accounts.capture_jobs import CaptureJob
from gateway.accounts.domains import FAILED, VERIFIED, VERIFIED_ELSEWHERE, Domain, DomainTaken
from gateway.accounts.factory import build_account_store
from gateway.accounts.models import Workspace
from gateway.accounts.postgres import PostgresAccountStore, _columns
from gateway.accounts.postgres_schema import MIGRATIONS, SchemaTooNew
from gateway.accounts.store import LastOwner, WorkspaceConflict, WorkspaceExists
from gateway.settings import Settings, SettingsError
from tests.gateway.accounts.postgres_support import SERVER, postgres_dsn, postgres_store  # noqa: F401 - a fixture

ROUNDS = 10
T = TypeVar("T")


@pytest.fixture
def nodes(request: pytest.FixtureRequest) -> Iterator[tuple[PostgresAccountStore, PostgresAccountStore]]:
    first = postgres_store(request)
    second = PostgresAccountStore(request.getfixturevalue("postgres_dsn"))
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def race(*calls: Callable[[], T]) -> list[T | Exception]:
    """Run the calls at the same moment, one thread each; what each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | Exception:
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the race's outcome is what it raised
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_writers_on_one_workspace_one_wins_the_other_conflicts(
    nodes: tuple[PostgresAccountStore, PostgresAccountStore],
) -> None:
    first, second = nodes
    first.create_workspace(Workspace(namespace="acme"))
    for round_ in range(ROUNDS):
        a, b = first.get_workspace("acme"), second.get_workspace("acme")
        assert a is not None and b is not None and a.revision == b.revision == round_ + 1
        outcome = race(
            partial(first.update_workspace, dataclasses.replace(a, plan="pro")),
            partial(second.update_workspace, dataclasses.replace(b, plan="business")),
        )
        won = [o for o in outcome if isinstance(o, Workspace)]
        lost = [o for o in outcome if isinstance(o, WorkspaceConflict)]
        assert len(won) == 1 and len(lost) == 1, outcome
        assert lost[0].given == round_ + 1 and lost[0].stored == round_ + 2
        stored = second.get_workspace("acme")
        assert stored is not None and stored.revision == round_ + 2 and stored.plan == won[0].plan


def test_two_nodes_creating_one_namespace_one_gets_workspace_exists(
    nodes: tuple[PostgresAccountStore, PostgresAccountStore],
) -> None:
    first, second = nodes
    for round_ in range(ROUNDS):
        namespace = f"shop{round_}"
        outcome = race(
            partial(first.create_workspace, Workspace(namespace=namespace, plan="pro")),
            partial(second.create_workspace, Workspace(namespace=namespace, plan="business")),
        )
        assert sorted(type(o).__name__ for o in outcome) == ["Workspace", "WorkspaceExists"], outcome
        assert all(isinstance(o, Workspace | WorkspaceExists) for o in outcome)


def test_two_owners_stepping_down_at_once_leave_one_owner(
    nodes: tuple[PostgresAccountStore, PostgresAccountStore],
) -> None:
    first, second = nodes
    first.create_workspace(Workspace(namespace="acme"))
    ann, bob = first.create_user("ann@example.com"), first.create_user("bob@example.com")
    first.add_member("acme", ann.user_id, "owner")
    first.add_member("acme", bob.user_id, "owner")
    for _ in range(ROUNDS):
        outcome = race(
            lambda: first.change_role("acme", ann.user_id, "member"),
            lambda: second.change_role("acme", bob.user_id, "member"),
        )
        assert sum(isinstance(o, LastOwner) for o in outcome) == 1, outcome
        owners = [m for m in first.list_members("acme") if m.is_owner]
        assert len(owners) == 1
        demoted = ann if owners[0].user_id == bob.user_id else bob
        first.change_role("acme", demoted.user_id, "owner")


def test_the_workspaces_table_has_a_column_for_every_field(postgres_dsn: str) -> None:  # noqa: F811
    """A ``Workspace`` field added with a SQLite migration only fails here, naming the PostgreSQL list."""
    PostgresAccountStore(postgres_dsn).close()
    with psycopg.connect(postgres_dsn) as conn:
        columns = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'workspaces'"
            ).fetchall()
        }
    assert columns == set(_columns(Workspace(namespace="acme"))), "add a migration to postgres_schema.MIGRATIONS"


@pytest.fixture
def empty_database(postgres_dsn: str) -> Iterator[str]:  # noqa: F811
    """A database of its own, with no schema yet (the module's one is migrated by its first test)."""
    name = f"imgate_test_{secrets.token_hex(6)}"
    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{SERVER} dbname={name}"
    finally:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_processes_starting_at_once_migrate_once(empty_database: str) -> None:
    # Each store opens its own connection and migrates, as Granian's workers do after a deploy: without the
    # advisory lock all but one would fail on CREATE TABLE of a table another just made.
    stores = race(*[lambda: PostgresAccountStore(empty_database) for _ in range(4)])
    try:
        assert all(isinstance(store, PostgresAccountStore) for store in stores), stores
        with psycopg.connect(empty_database) as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        opened = [store for store in stores if isinstance(store, PostgresAccountStore)]
        opened[0].create_workspace(Workspace(namespace="acme"))
        assert [ws.namespace for ws in opened[-1].list_workspaces()] == ["acme"]
    finally:
        for store in stores:
            if isinstance(store, PostgresAccountStore):
                store.close()


def test_a_database_of_a_later_release_is_refused(empty_database: str) -> None:
    PostgresAccountStore(empty_database).close()
    with psycopg.connect(empty_database) as conn:
        conn.execute("UPDATE schema_version SET version = %s", (len(MIGRATIONS) + 1,))
    with pytest.raises(SchemaTooNew, match="later release"):
        PostgresAccountStore(empty_database)


def test_the_factory_builds_it_from_the_database_url(postgres_dsn: str) -> None:  # noqa: F811
    store = build_account_store(Settings(account_store="postgres", database_url=postgres_dsn))
    try:
        assert isinstance(store, PostgresAccountStore)
        assert store.schema_version == len(MIGRATIONS)
    finally:
        store.close()


def test_the_settings_want_a_url_and_never_show_it() -> None:
    with pytest.raises(SettingsError, match="database_url"):
        Settings(account_store="postgres")
    settings = Settings(account_store="postgres", database_url="postgresql://imgate:hunter2@db/imgate")
    assert "hunter2" not in repr(settings)
    with pytest.raises(SettingsError, match="database_pool_size"):
        Settings(account_store="postgres", database_url="postgresql://db/imgate", database_pool_size=0)


def test_a_writer_waiting_on_the_row_lock_sees_the_new_revision(
    nodes: tuple[PostgresAccountStore, PostgresAccountStore],
    postgres_dsn: str,  # noqa: F811
) -> None:
    # Deterministic form of the race: another node's transaction holds the row, this node's update waits for
    # it, and once it commits the waiting UPDATE re-reads the row and matches no revision.
    first, _ = nodes
    stale = first.create_workspace(Workspace(namespace="acme"))
    with psycopg.connect(postgres_dsn) as other:
        other.execute("UPDATE workspaces SET revision = revision + 1, plan = 'business' WHERE namespace = 'acme'")
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(first.update_workspace, dataclasses.replace(stale, plan="pro"))
            with pytest.raises(TimeoutError):
                waiting.result(timeout=0.5)  # blocked on the row lock, not answered from a stale read
            other.commit()
            with pytest.raises(WorkspaceConflict):
                waiting.result(timeout=10)
    stored = first.get_workspace("acme")
    assert stored is not None and stored.plan == "business" and stored.revision == 2


def test_one_hostname_verified_for_two_workspaces_at_once_goes_to_one(
    nodes: tuple[PostgresAccountStore, PostgresAccountStore],
) -> None:
    first, second = nodes
    first.create_workspace(Workspace(namespace="acme"))
    first.create_workspace(Workspace(namespace="shop"))
    first.create_workspace(Workspace(namespace="third"))
    for round_ in range(ROUNDS):
        host = f"img{round_}.example.com"
        # Claims block nobody; the proofs saved at the same moment settle it: one verified, the other failed.
        claims = [first.domains.add(Domain(host, "acme"), 100), second.domains.add(Domain(host, "shop"), 100)]
        outcome = race(
            partial(first.domains.save_check, dataclasses.replace(claims[0], state=VERIFIED, checked_at=1.0)),
            partial(second.domains.save_check, dataclasses.replace(claims[1], state=VERIFIED, checked_at=1.0)),
        )
        assert all(isinstance(o, Domain) for o in outcome), outcome
        states = sorted((o.state, o.reason) for o in outcome if isinstance(o, Domain))
        assert states == [(FAILED, VERIFIED_ELSEWHERE), (VERIFIED, "")], outcome
        routed = first.domains.routed(host)
        assert routed is not None and routed.namespace in ("acme", "shop")
        with pytest.raises(DomainTaken):
            first.domains.add(Domain(host, "third"), 100)


def test_workers_on_two_nodes_never_claim_one_job_twice(
    nodes: tuple[PostgresAccountStore, PostgresAccountStore],
) -> None:
    first, second = nodes
    first.create_workspace(Workspace(namespace="acme"))
    jobs = 12
    for n in range(jobs):
        job = CaptureJob(f"cap_{n:024x}", "acme", "https://example.com/", "{}", 1000.0 + n)
        assert first.capture_jobs.add(job, max_queued_workspace=100, max_queued_total=100)

    def drain(store: PostgresAccountStore, worker: str) -> list[str]:
        taken = []
        while (job := store.capture_jobs.claim(worker, now=2000.0, lease=60.0, max_attempts=3)) is not None:
            taken.append(job.job_id)
        return taken

    a, b = race(partial(drain, first, "node-a"), partial(drain, second, "node-b"))
    assert isinstance(a, list) and isinstance(b, list)
    assert not set(a) & set(b)
    assert sorted(a + b) == [f"cap_{n:024x}" for n in range(jobs)]
