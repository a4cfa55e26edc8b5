"""Workspaces through the admin layer: validation as the request path does it, compare-and-set, deletion."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from gateway import admin
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.admin import AdminContext, Conflict, Invalid, NotFound, OriginChanges, WorkspaceChanges
from gateway.admin.workspaces import load, save
from gateway.cache.keys import cache_key
from gateway.cache.results import CachedResult
from tests.gateway.admin.racing import InterleavingStore

pytestmark = pytest.mark.anyio


async def test_create_starts_permissive_with_no_origin(ctx: AdminContext) -> None:
    view = await admin.create_workspace(ctx, "acme")
    assert view.revision == 1 and view.active
    assert view.origin == {"kind": "none"} and not view.origin_secret_set
    assert view.allowed_origins == ("*",) and view.allowed_sources == ("*",) and view.allowed_capture_domains == ()
    assert [w.namespace for w in await admin.list_workspaces(ctx)] == ["acme"]
    assert await admin.show_workspace(ctx, "acme") == view


async def test_a_namespace_is_unique(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    with pytest.raises(Conflict) as refused:
        await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="pro"))
    assert refused.value.code == "CONFLICT" and "acme" in refused.value.message
    assert (await admin.show_workspace(ctx, "acme")).plan == "free"


@pytest.mark.parametrize("namespace", ["Bad_Name", "a", "-x", "x" * 64, "../etc"])
async def test_a_namespace_outside_the_pattern_is_invalid_and_never_looked_up(
    ctx: AdminContext, namespace: str
) -> None:
    for operation in (
        admin.create_workspace(ctx, namespace),
        admin.show_workspace(ctx, namespace),
        admin.delete_workspace(ctx, namespace),
    ):
        with pytest.raises(Invalid) as refused:
            await operation
        assert refused.value.code == "INVALID" and refused.value.field == "namespace"


async def test_unknown_workspaces_are_not_found(ctx: AdminContext) -> None:
    for operation in (
        admin.show_workspace(ctx, "ghost"),
        admin.update_workspace(ctx, "ghost", WorkspaceChanges(plan="pro")),
        admin.delete_workspace(ctx, "ghost"),
        admin.purge(ctx, "ghost"),
        admin.check_origin(ctx, "ghost", "a.jpg"),
    ):
        with pytest.raises(NotFound) as missing:
            await operation
        assert missing.value.code == "NOT_FOUND"


async def test_update_changes_only_what_is_given(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(allowed_sources=("cdn.example.com",)))
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro", active=False, capture_retention=0))
    assert (view.plan, view.active, view.capture_retention, view.revision) == ("pro", False, 0, 2)
    assert view.allowed_sources == ("cdn.example.com",) and view.allowed_origins == ("*",)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (WorkspaceChanges(allowed_origins=("null",)), "allowed origins"),
        (WorkspaceChanges(allowed_origins=("https://shop.example.com/path",)), "allowed origins"),
        (WorkspaceChanges(allowed_sources=("user@cdn.example.com",)), "allowed sources"),
        (WorkspaceChanges(allowed_capture_domains=("exa mple.com",)), "allowed capture domains"),
        (WorkspaceChanges(plan="platinum"), "plan"),
        (WorkspaceChanges(capture_retention=-1), "retention"),
    ],
)
async def test_settings_the_gateway_could_not_use_are_refused_and_nothing_is_stored(
    ctx: AdminContext, changes: WorkspaceChanges, named: str
) -> None:
    await admin.create_workspace(ctx, "acme")
    with pytest.raises(Invalid) as refused:
        await admin.update_workspace(ctx, "acme", changes)
    assert named in refused.value.message
    assert (await admin.show_workspace(ctx, "acme")).revision == 1
    with pytest.raises(Invalid):
        await admin.create_workspace(ctx, "other", changes)
    assert [w.namespace for w in await admin.list_workspaces(ctx)] == ["acme"]


async def test_a_change_based_on_a_stale_revision_is_refused(ctx: AdminContext) -> None:
    shown = await admin.create_workspace(ctx, "acme")
    first = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro"), revision=shown.revision)
    with pytest.raises(Conflict) as stale:
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(active=False), revision=shown.revision)
    assert str(shown.revision) in stale.value.message and str(first.revision) in stale.value.message
    now = await admin.show_workspace(ctx, "acme")
    assert now.plan == "pro" and now.active and now.revision == first.revision


async def test_two_admins_read_both_write_the_second_is_refused_and_nothing_is_lost(
    tmp_path: Path, ctx: AdminContext
) -> None:
    # Two admin processes on one account database, as two nodes or two operators would be.
    path = tmp_path / "accounts.sqlite3"
    one, two = SqliteAccountStore(path), SqliteAccountStore(path)
    try:
        first = dataclasses.replace(ctx, store=one)
        second = dataclasses.replace(ctx, store=two)
        await admin.create_workspace(first, "acme")
        read_by_first = await load(first, "acme")
        read_by_second = await load(second, "acme")
        await save(first, dataclasses.replace(read_by_first, plan="pro"))
        with pytest.raises(Conflict) as refused:
            await save(second, dataclasses.replace(read_by_second, allowed_origins=("https://shop.example.com",)))
        assert refused.value.code == "CONFLICT"
        stored = await admin.show_workspace(second, "acme")
        assert stored.plan == "pro" and stored.allowed_origins == ("*",) and stored.revision == 2
    finally:
        one.close()
        two.close()


async def test_a_write_racing_a_change_is_refused_not_lost(ctx: AdminContext) -> None:
    racing = dataclasses.replace(ctx, store=InterleavingStore("business"))
    await admin.create_workspace(racing, "acme")
    racing.store.times = 1  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        await admin.update_workspace(racing, "acme", WorkspaceChanges(active=False))
    now = await admin.show_workspace(racing, "acme")
    assert now.plan == "business" and now.active


async def test_delete_removes_the_workspace_its_marks_and_its_stored_outputs(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "other")
    await admin.create_mark(ctx, "acme", "credit", admin.MarkChanges(text="ACME"))
    entry = CachedResult(data=b"x", content_type="image/png", created_at=time.time(), expires_at=time.time() + 60)
    ours = cache_key("acme", "o", "a.jpg", "id", "v")
    theirs = cache_key("other", "o", "a.jpg", "id", "v")
    await ctx.results.put(ours, entry)
    await ctx.results.put(theirs, entry)
    assert await admin.delete_workspace(ctx, "acme") == 1
    assert await ctx.results.get(ours) is None and await ctx.results.get(theirs) is not None
    with pytest.raises(NotFound):
        await admin.show_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "acme")
    assert await admin.list_marks(ctx, "acme") == []


async def test_the_view_never_holds_the_sealed_secret(ctx: AdminContext) -> None:
    secret = "s3cret-never-shown-0123456789"
    view = await admin.create_workspace(
        ctx,
        "acme",
        WorkspaceChanges(
            origin=OriginChanges(kind="s3", bucket="photos", access_key_id="AKIAEXAMPLE", secret_access_key=secret)
        ),
    )
    stored = await load(ctx, "acme")
    assert stored.origin_secret_sealed and ctx.secrets.open(stored.origin_secret_sealed) == secret
    shown = json.dumps(view.as_dict())
    assert view.origin_secret_set and secret not in shown and stored.origin_secret_sealed not in shown
    assert "secret" not in "".join(view.origin)
