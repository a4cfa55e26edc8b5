"""Members through the admin layer: by email, users created on first sight, the last owner kept."""

from __future__ import annotations

import pytest

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.admin import AdminContext, Conflict, Invalid, NotFound

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "other")


async def test_adding_creates_the_user_once_and_normalises_the_address(
    ctx: AdminContext, store: MemoryAccountStore, acme: None
) -> None:
    owner = await admin.add_member(ctx, "acme", "  Owner@Example.COM ", "owner")
    assert (owner.email, owner.role) == ("owner@example.com", "owner")
    again = await admin.add_member(ctx, "other", "owner@example.com")
    assert again.user_id == owner.user_id and again.role == "member"
    user = store.get_user_by_email("owner@example.com")
    assert user is not None and user.user_id == owner.user_id
    assert await admin.list_members(ctx, "acme") == [owner]


async def test_members_are_listed_by_email(ctx: AdminContext, acme: None) -> None:
    for email in ("zoe@example.com", "adam@example.com", "mia@example.com"):
        await admin.add_member(ctx, "acme", email)
    assert [m.email for m in await admin.list_members(ctx, "acme")] == [
        "adam@example.com",
        "mia@example.com",
        "zoe@example.com",
    ]
    assert await admin.list_members(ctx, "other") == []


async def test_bad_input_is_invalid_and_never_echoed(ctx: AdminContext, acme: None) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.add_member(ctx, "acme", "not an address")
    assert refused.value.field == "email" and "not an address" not in refused.value.message
    with pytest.raises(Invalid) as refused:
        await admin.add_member(ctx, "acme", "a@example.com", "admin")
    assert refused.value.field == "role"
    with pytest.raises(Invalid):
        await admin.change_role(ctx, "acme", "a@example.com", "admin")
    assert await admin.list_members(ctx, "acme") == []


async def test_a_member_is_added_once(ctx: AdminContext, acme: None) -> None:
    await admin.add_member(ctx, "acme", "a@example.com")
    with pytest.raises(Conflict) as refused:
        await admin.add_member(ctx, "acme", "A@example.com", "owner")
    assert "a@example.com" not in refused.value.message.lower()


async def test_the_last_owner_stays(ctx: AdminContext, acme: None) -> None:
    await admin.add_member(ctx, "acme", "owner@example.com", "owner")
    await admin.add_member(ctx, "acme", "member@example.com")
    with pytest.raises(Conflict, match="last owner"):
        await admin.remove_member(ctx, "acme", "owner@example.com")
    with pytest.raises(Conflict, match="last owner"):
        await admin.change_role(ctx, "acme", "owner@example.com", "member")
    promoted = await admin.change_role(ctx, "acme", "member@example.com", "owner")
    assert promoted.role == "owner"
    await admin.remove_member(ctx, "acme", "owner@example.com")
    assert [(m.email, m.role) for m in await admin.list_members(ctx, "acme")] == [("member@example.com", "owner")]


async def test_unknown_members_and_workspaces(ctx: AdminContext, acme: None) -> None:
    await admin.add_member(ctx, "other", "elsewhere@example.com")
    for operation in (
        admin.remove_member(ctx, "acme", "nobody@example.com"),
        admin.remove_member(ctx, "acme", "elsewhere@example.com"),
        admin.change_role(ctx, "acme", "elsewhere@example.com", "owner"),
        admin.add_member(ctx, "ghost", "a@example.com"),
        admin.list_members(ctx, "ghost"),
    ):
        with pytest.raises(NotFound) as missing:
            await operation
        assert "@" not in missing.value.message


async def test_changes_are_audited(ctx: AdminContext, store: MemoryAccountStore, acme: None) -> None:
    await admin.add_member(ctx, "acme", "owner@example.com", "owner")
    await admin.add_member(ctx, "acme", "member@example.com")
    await admin.change_role(ctx, "acme", "member@example.com", "owner")
    await admin.remove_member(ctx, "acme", "owner@example.com")
    page = store.list_audit("acme")
    assert [row.operation for row in page.entries] == [
        "member.remove",
        "member.role",
        "member.add",
        "member.add",
        "workspace.create",
    ]
    assert "@" not in "".join(row.operation + row.actor for row in page.entries)
