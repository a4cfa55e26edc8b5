"""The audit log: one row per change with the actor and the outcome, never what was sent; paging; pruning."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from gateway import admin
from gateway.accounts.audit import AuditEntry
from gateway.accounts.keys import new_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.admin import AdminContext, Conflict, Invalid, MarkChanges, NotFound, OriginChanges, WorkspaceChanges
from gateway.admin.audit import PRUNE_EVERY, audit_call
from tests.gateway.admin.conftest import png

pytestmark = pytest.mark.anyio


def rows(store: MemoryAccountStore, namespace: str = "acme") -> list[AuditEntry]:
    """Every row, oldest first."""
    found: list[AuditEntry] = []
    cursor = None
    while True:
        page = store.list_audit(namespace, 500, cursor)
        found.extend(page.entries)
        if page.next_cursor is None:
            return list(reversed(found))
        cursor = page.next_cursor


def operations(store: MemoryAccountStore, namespace: str = "acme") -> list[tuple[str, str, int]]:
    return [(row.actor, row.operation, row.status) for row in rows(store, namespace)]


async def test_every_change_records_one_row_with_its_actor_and_outcome(
    ctx: AdminContext, store: MemoryAccountStore
) -> None:
    await admin.create_workspace(ctx, "acme")
    api = ctx.acting_as("key:imk_live_4Fq")
    await admin.update_workspace(api, "acme", WorkspaceChanges(plan="pro"))
    await admin.create_mark(api, "acme", "credit", MarkChanges(text="© Acme"))
    await admin.add_rule(api, "acme", "credit", ("*.jpg",))
    await admin.purge(ctx.acting_as("user:owner@example.com"), "acme", "products/")
    await admin.create_key(ctx, "acme", "Production")
    await admin.add_member(ctx, "acme", "owner@example.com", "owner")
    assert operations(store) == [
        ("cli", "workspace.create", 200),
        ("key:imk_live_4Fq", "workspace.update", 200),
        ("key:imk_live_4Fq", "mark.create", 200),
        ("key:imk_live_4Fq", "rule.add", 200),
        ("user:owner@example.com", "workspace.purge", 200),
        ("cli", "key.create", 200),
        ("cli", "member.add", 200),
    ]
    assert all(row.latency_ms >= 0 and row.at <= time.time() for row in rows(store))


async def test_refusals_are_recorded_with_their_status(ctx: AdminContext, store: MemoryAccountStore) -> None:
    await admin.create_workspace(ctx, "acme")
    with pytest.raises(Invalid):
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(capture_retention=-1))
    with pytest.raises(NotFound):
        await admin.delete_mark(ctx, "acme", "ghost")
    with pytest.raises(Conflict):
        await admin.create_workspace(ctx, "acme")
    with pytest.raises(Conflict):
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro"), revision=99)
    assert [(op, status) for _, op, status in operations(store)][1:] == [
        ("workspace.update", 400),
        ("mark.delete", 404),
        ("workspace.create", 409),
        ("workspace.update", 409),
    ]


async def test_reads_record_nothing(ctx: AdminContext, store: MemoryAccountStore) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.show_workspace(ctx, "acme")
    await admin.list_marks(ctx, "acme")
    await admin.list_keys(ctx, "acme")
    await admin.list_audit(ctx, "acme")
    assert [op for _, op, _ in operations(store)] == ["workspace.create"]


async def test_an_attempt_on_a_name_no_workspace_can_have_is_kept_under_no_workspace(
    ctx: AdminContext, store: MemoryAccountStore
) -> None:
    with pytest.raises(Invalid):
        await admin.create_workspace(ctx, "Bad_Name")
    assert operations(store, "") == [("cli", "workspace.create", 400)]


async def test_deleting_a_workspace_is_recorded_under_no_workspace_and_inherited_by_none(
    ctx: AdminContext, store: MemoryAccountStore
) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.delete_workspace(ctx, "acme")
    assert operations(store, "") == [("cli", "workspace.delete", 200)]
    await admin.create_workspace(ctx, "acme")
    assert operations(store) == [("cli", "workspace.create", 200)]


async def test_calls_nest_into_one_row(ctx: AdminContext, store: MemoryAccountStore) -> None:
    """An API handler wraps its operations in one call: one request, one row, with the handler's status."""
    async with audit_call(ctx, "acme", "POST /_/api/v1/workspaces") as call:
        await admin.create_workspace(ctx, "acme")
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro"))
        call.status = 201
    assert operations(store) == [("cli", "POST /_/api/v1/workspaces", 201)]
    with pytest.raises(NotFound):
        async with audit_call(ctx, "acme", "DELETE /_/api/v1/marks/{name}"):
            await admin.delete_mark(ctx, "acme", "ghost")
    assert operations(store)[-1] == ("cli", "DELETE /_/api/v1/marks/{name}", 404)
    await admin.seed_demo(ctx)
    assert operations(store, "demo") == [("cli", "demo.seed", 200)]


async def test_a_request_that_deletes_its_workspace_is_recorded_under_no_workspace(
    ctx: AdminContext, store: MemoryAccountStore
) -> None:
    await admin.create_workspace(ctx, "acme")
    async with audit_call(ctx, "acme", "DELETE /_/api/v1/workspace"):
        await admin.delete_workspace_with_receipt(ctx, "acme")
    await admin.create_workspace(ctx, "acme")
    assert operations(store, "") == [("cli", "DELETE /_/api/v1/workspace", 200)]
    assert operations(store) == [("cli", "workspace.create", 200)]


async def test_record_audit_writes_what_the_api_hands_it(ctx: AdminContext, store: MemoryAccountStore) -> None:
    api = ctx.acting_as("key:imk_live_4Fq")
    entry = await admin.record_audit(api, "acme", "GET /_/api/v1/workspace", 200, 1.5)
    assert entry.entry_id and rows(store) == [entry]
    assert (entry.actor, entry.operation, entry.status, entry.latency_ms) == (
        "key:imk_live_4Fq",
        "GET /_/api/v1/workspace",
        200,
        1.5,
    )
    assert (await admin.record_audit(api, "Not A Namespace", "GET /_/api/v1/workspace", 401, 0.1)).namespace == ""
    with pytest.raises(ValueError, match="never a URL"):
        await admin.record_audit(api, "acme", "GET /_/api/v1/workspace?key=imk_live_secret", 200, 0.1)


async def test_an_actor_never_holds_a_whole_key(ctx: AdminContext) -> None:
    secret = new_api_key()[0]
    for actor in (secret, f"key:{secret}", f"key:{secret[:20]}"):
        with pytest.raises(ValueError, match="prefix") as refused:
            ctx.acting_as(actor)
        assert secret[12:20] not in str(refused.value)
    api = ctx.acting_as("key:" + secret[:12])
    assert api.actor == "key:" + secret[:12] and api.store is ctx.store and api.key_throttle is ctx.key_throttle


async def test_planted_secrets_urls_and_bodies_never_reach_a_row(ctx: AdminContext, store: MemoryAccountStore) -> None:
    secret_key = "planted-s3-secret-0123456789"
    url = "https://planted.example.com/originals/"
    created = await admin.create_workspace(
        ctx,
        "acme",
        WorkspaceChanges(
            origin=OriginChanges(
                kind="s3", bucket="planted-bucket", access_key_id="AKIAPLANTED", secret_access_key=secret_key
            )
        ),
    )
    await admin.update_workspace(ctx, "acme", WorkspaceChanges(origin=OriginChanges(kind="http", base_url=url)))
    with pytest.raises(Invalid):
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(allowed_sources=("https://planted-bad.example/?q",)))
    await admin.create_mark(ctx, "acme", "upload", MarkChanges(image_data=png()))
    await admin.create_mark(ctx, "acme", "credit", MarkChanges(text="planted body text"))
    key = await admin.create_key(ctx, "acme", "Planted name")
    await admin.purge(ctx, "acme", "products/planted-key.jpg")
    await admin.add_member(ctx, "acme", "planted@example.com")
    written = json.dumps([dataclasses.asdict(row) for row in rows(store)])
    for planted in (
        secret_key,
        url,
        "planted.example.com",
        "AKIAPLANTED",
        "planted-bucket",
        "planted body",
        key.secret,
    ):
        assert planted not in written
    assert "planted-key" not in written and "planted@example.com" not in written
    assert created.namespace in written


async def test_pages_are_newest_first_with_a_cursor(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    for plan in ("pro", "business", "free", "pro"):
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan=plan))
    first = await admin.list_audit(ctx, "acme", limit=3)
    assert [row.operation for row in first.entries] == ["workspace.update"] * 3 and first.next_cursor
    second = await admin.list_audit(ctx, "acme", limit=3, cursor=first.next_cursor)
    assert [row.operation for row in second.entries] == ["workspace.update", "workspace.create"]
    assert second.next_cursor is None


async def test_page_arguments_are_checked(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    for limit in (0, 501):
        with pytest.raises(Invalid) as refused:
            await admin.list_audit(ctx, "acme", limit=limit)
        assert refused.value.field == "limit"
    with pytest.raises(Invalid) as refused:
        await admin.list_audit(ctx, "acme", cursor="not-a-cursor")
    assert refused.value.field == "cursor"
    with pytest.raises(NotFound):
        await admin.list_audit(ctx, "ghost")
    with pytest.raises(Invalid):
        await admin.list_audit(ctx, "Bad_Name")


async def test_pages_filtered_by_actor_and_operation(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    ana = ctx.acting_as("user:ana@example.com")
    for plan in ("pro", "business", "free"):
        await admin.update_workspace(ana, "acme", WorkspaceChanges(plan=plan))
    await admin.create_key(ana, "acme", "Production")
    await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro"))
    mine = await admin.list_audit(ctx, "acme", limit=2, actor="user:ana")
    assert [row.operation for row in mine.entries] == ["key.create", "workspace.update"] and mine.next_cursor
    rest = await admin.list_audit(ctx, "acme", limit=2, cursor=mine.next_cursor, actor="user:ana")
    assert [row.operation for row in rest.entries] == ["workspace.update"] * 2 and rest.next_cursor is None
    by_cli = await admin.list_audit(ctx, "acme", actor="cli", operation="workspace.")
    assert [row.operation for row in by_cli.entries] == ["workspace.update", "workspace.create"]
    with pytest.raises(Invalid) as refused:
        await admin.list_audit(ctx, "acme", actor="x" * 255)
    assert refused.value.field == "actor"
    with pytest.raises(Invalid) as refused:
        await admin.list_audit(ctx, "acme", operation="line\nbreak")
    assert refused.value.field == "operation"


async def test_rows_past_the_retention_are_pruned(ctx: AdminContext, store: MemoryAccountStore) -> None:
    await admin.create_workspace(ctx, "acme")
    days = ctx.settings.audit_retention_days
    store.append_audit(AuditEntry(time.time() - days * 86400 - 60, "acme", "cli", "old.change", 200, 1.0))
    store.append_audit(AuditEntry(time.time() - days * 86400 + 3600, "acme", "cli", "recent.change", 200, 1.0))
    assert await admin.prune_audit(ctx) == 1
    assert [op for _, op, _ in operations(store)] == ["recent.change", "workspace.create"]
    assert operations(store, "") == [("cli", "audit.prune", 200)]


async def test_the_writer_prunes_by_itself_every_so_many_rows(ctx: AdminContext, store: MemoryAccountStore) -> None:
    ancient = store.append_audit(AuditEntry(1_000_000.0, "acme", "cli", "ancient.change", 200, 1.0))
    for _ in range(PRUNE_EVERY - ancient.entry_id - 1):
        await admin.record_audit(ctx, "acme", "GET /_/api/v1/workspace", 200, 0.1)
    assert rows(store)[0].operation == "ancient.change"
    await admin.record_audit(ctx, "acme", "GET /_/api/v1/workspace", 200, 0.1)
    assert [row.operation for row in rows(store)] == ["GET /_/api/v1/workspace"] * (PRUNE_EVERY - 1)


class _AuditDown(MemoryAccountStore):
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        raise OSError("audit table unavailable")


async def test_a_failing_audit_write_never_undoes_a_change_it_cannot_undo(
    ctx: AdminContext, caplog: pytest.LogCaptureFixture
) -> None:
    down = dataclasses.replace(ctx, store=_AuditDown())
    view = await admin.create_workspace(down, "acme")
    assert view.namespace == "acme" and down.store.get_workspace("acme") is not None
    assert "could not record the audit row of workspace.create" in caplog.text
