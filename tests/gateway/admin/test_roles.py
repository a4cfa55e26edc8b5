"""Roles enforced by the admin layer itself: what an owner, a member, a write key and a read key may do.

Every adapter (the command, the API, the dashboard) goes through these checks, so a member cannot make
themselves an owner through any of them, and a key cannot manage people or delete its workspace.
"""

from __future__ import annotations

import pytest

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.plans import PlanOverrides
from gateway.admin import AdminContext, Forbidden, NotFound
from gateway.admin.roles import Caller

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "other")
    await admin.add_member(ctx, "acme", "olga@example.com", "owner")
    await admin.add_member(ctx, "acme", "max@example.com", "member")


def owner(ctx: AdminContext) -> AdminContext:
    return ctx.as_person("olga@example.com", {"acme": "owner"})


def member(ctx: AdminContext) -> AdminContext:
    return ctx.as_person("max@example.com", {"acme": "member"})


def role_of(store: MemoryAccountStore, email: str) -> str | None:
    user = store.get_user_by_email(email)
    assert user is not None
    return next((m.role for m in store.list_memberships(user.user_id) if m.namespace == "acme"), None)


async def test_a_member_cannot_make_themselves_owner_or_manage_members(
    ctx: AdminContext, store: MemoryAccountStore, acme: None
) -> None:
    with pytest.raises(Forbidden, match="only an owner"):
        await admin.change_role(member(ctx), "acme", "max@example.com", "owner")
    with pytest.raises(Forbidden):
        await admin.add_member(member(ctx), "acme", "eve@example.com", "owner")
    with pytest.raises(Forbidden):
        await admin.remove_member(member(ctx), "acme", "olga@example.com")
    assert role_of(store, "max@example.com") == "member" and role_of(store, "olga@example.com") == "owner"
    assert store.get_user_by_email("eve@example.com") is None
    refused = [(r.actor, r.operation, r.status) for r in store.list_audit("acme", 50).entries if r.status == 403]
    assert ("user:max@example.com", "member.role", 403) in refused
    # Members still see who is in the workspace; the owner manages them.
    assert {m.email for m in await admin.list_members(member(ctx), "acme")} == {"olga@example.com", "max@example.com"}
    await admin.change_role(owner(ctx), "acme", "max@example.com", "owner")
    assert role_of(store, "max@example.com") == "owner"


async def test_members_create_read_keys_only_owners_write_keys(ctx: AdminContext, acme: None) -> None:
    read = await admin.create_key(member(ctx), "acme", "CI", "read")
    assert read.key.scope == "read"
    with pytest.raises(Forbidden, match="write scope"):
        await admin.create_key(member(ctx), "acme", "Sneaky", "write")
    written = await admin.create_key(owner(ctx), "acme", "Deploy", "write")
    assert written.key.scope == "write"
    assert [k.name for k in await admin.list_keys(member(ctx), "acme")] == ["CI", "Deploy"]


async def test_only_owners_delete_export_or_bind_billing(
    ctx: AdminContext, store: MemoryAccountStore, acme: None
) -> None:
    with pytest.raises(Forbidden):
        await admin.delete_workspace_with_receipt(member(ctx), "acme")
    with pytest.raises(Forbidden):
        await admin.delete_workspace(member(ctx), "acme")
    with pytest.raises(Forbidden):
        await admin.export_workspace(member(ctx), "acme")
    with pytest.raises(Forbidden):
        await admin.bind_stripe_customer(member(ctx), "acme", "cus_123")
    assert store.get_workspace("acme") is not None
    assert (await admin.export_workspace(owner(ctx), "acme"))["workspace"]["namespace"] == "acme"
    await admin.delete_workspace_with_receipt(owner(ctx), "acme")
    assert store.get_workspace("acme") is None


async def test_plan_limit_overrides_are_the_operators(ctx: AdminContext, acme: None) -> None:
    with pytest.raises(Forbidden, match="operator"):
        await admin.set_limit_overrides(owner(ctx), "acme", PlanOverrides())
    await admin.set_limit_overrides(ctx, "acme", PlanOverrides())


async def test_a_stranger_learns_nothing_of_another_workspace(ctx: AdminContext, acme: None) -> None:
    stranger = ctx.as_person("olga@example.com", {"acme": "owner"})
    for attempt in (
        admin.add_member(stranger, "other", "olga@example.com", "owner"),
        admin.list_members(stranger, "other"),
        admin.create_key(stranger, "other", "Mine", "read"),
        admin.delete_workspace(stranger, "other"),
    ):
        with pytest.raises(NotFound, match="no workspace other"):
            await attempt


async def test_api_keys_never_manage_people_mint_write_keys_or_delete(
    ctx: AdminContext, store: MemoryAccountStore, acme: None
) -> None:
    writer = ctx.as_key("imk_live_abc", "acme", "write")
    for attempt in (
        admin.change_role(writer, "acme", "max@example.com", "owner"),
        admin.add_member(writer, "acme", "eve@example.com", "owner"),
        admin.create_key(writer, "acme", "Another", "write"),
        admin.delete_workspace(writer, "acme"),
    ):
        with pytest.raises(Forbidden, match="not an API key"):
            await attempt
    assert role_of(store, "max@example.com") == "member" and store.get_workspace("acme") is not None
    # Everything else a member may do, and the export (backups are a key's job).
    await admin.create_key(writer, "acme", "Reader", "read")
    await admin.purge(writer, "acme")
    assert (await admin.export_workspace(writer, "acme"))["workspace"]["namespace"] == "acme"
    reader = ctx.as_key("imk_live_def", "acme", "read")
    with pytest.raises(Forbidden):
        await admin.create_key(reader, "acme", "Nope", "read")
    with pytest.raises(Forbidden):
        await admin.export_workspace(reader, "acme")


def test_the_command_line_is_the_operator(ctx: AdminContext) -> None:
    assert ctx.caller.kind == "operator" and ctx.caller.may("anything", "delete")
    assert not Caller.person({"acme": "member"}).may("acme", "members")
    assert Caller.person({"acme": "owner"}).may("acme", "members")
    # Deriving an actor keeps the caller; as_person replaces both.
    assert ctx.acting_as("user:olga@example.com").caller.kind == "operator"
    assert ctx.as_person("olga@example.com", {}).actor == "user:olga@example.com"
