"""A workspace's members: add (creating the user on first sight), remove, change role, list.

People are named by email address, in the normal form of ``gateway.accounts.users.normalise_email``. A
workspace keeps at least one owner once it has one: removing or demoting the last owner is a ``Conflict``.
Only owners (and the operator) manage members and roles (``gateway.admin.roles``); every member may list them.
Messages never repeat an address (they reach terminals, logs and API answers; addresses are personal data).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gateway.accounts.store import (
    AccountStore,
    LastOwner,
    MemberExists,
    MemberMissing,
    UserExists,
    UserMissing,
    WorkspaceMissing,
)
from gateway.accounts.users import ROLES, InvalidEmail, Membership, User, normalise_email
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Invalid, NotFound
from gateway.admin.roles import require
from gateway.admin.workspaces import load


@dataclass(frozen=True, slots=True)
class MemberView:
    email: str
    role: str
    user_id: str
    created_at: float  # when the user first appeared (in any workspace)
    last_sign_in_at: float | None

    @classmethod
    def of(cls, user: User, membership: Membership) -> MemberView:
        return cls(user.email, membership.role, user.user_id, user.created_at, user.last_sign_in_at)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _email(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidEmail as exc:
        raise Invalid(f"email: {exc}", "email") from None


def _role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"role: must be one of {', '.join(ROLES)}", "role")
    return role


def _user_for(store: AccountStore, email: str) -> User:
    """The user with this address, created if there is none (another caller may create it meanwhile)."""
    user = store.get_user_by_email(email)
    if user is not None:
        return user
    try:
        return store.create_user(email)
    except UserExists:
        found = store.get_user_by_email(email)
        if found is None:  # deleted again in between: vanishingly rare, and a retry settles it
            raise
        return found


def _add(store: AccountStore, namespace: str, email: str, role: str) -> MemberView:
    user = _user_for(store, email)
    return MemberView.of(user, store.add_member(namespace, user.user_id, role))


@audited("member.add")
async def add_member(ctx: AdminContext, namespace: str, email: str, role: str = "member") -> MemberView:
    require(ctx, namespace, "members")
    await load(ctx, namespace)
    normal, role = _email(email), _role(role)
    try:
        return await ctx.call(_add, ctx.store, namespace, normal, role)
    except MemberExists:
        raise Conflict(f"that user is a member of {namespace} already") from None
    except (WorkspaceMissing, UserMissing):
        raise NotFound(f"no workspace {namespace}") from None


async def _member(ctx: AdminContext, namespace: str, email: str) -> User:
    await load(ctx, namespace)
    user = await ctx.call(ctx.store.get_user_by_email, _email(email))
    if user is None:
        raise NotFound(f"no member with that email address in {namespace}")
    return user


@audited("member.remove")
async def remove_member(ctx: AdminContext, namespace: str, email: str) -> None:
    require(ctx, namespace, "members")
    user = await _member(ctx, namespace, email)
    try:
        removed = await ctx.call(ctx.store.remove_member, namespace, user.user_id)
    except LastOwner:
        raise Conflict(f"that member is the last owner of {namespace}; make another member an owner first") from None
    if not removed:
        raise NotFound(f"no member with that email address in {namespace}")


@audited("member.role")
async def change_role(ctx: AdminContext, namespace: str, email: str, role: str) -> MemberView:
    require(ctx, namespace, "members")
    _role(role)
    user = await _member(ctx, namespace, email)
    try:
        membership = await ctx.call(ctx.store.change_role, namespace, user.user_id, role)
    except MemberMissing:
        raise NotFound(f"no member with that email address in {namespace}") from None
    except LastOwner:
        raise Conflict(f"that member is the last owner of {namespace}; make another member an owner first") from None
    return MemberView.of(user, membership)


async def list_members(ctx: AdminContext, namespace: str) -> list[MemberView]:
    """By email address."""
    require(ctx, namespace, "read")
    await load(ctx, namespace)
    return await ctx.call(members_of, ctx.store, namespace)


def members_of(store: AccountStore, namespace: str) -> list[MemberView]:
    """The store's members with their users, in one blocking call (for a worker thread)."""
    views = []
    for membership in store.list_members(namespace):
        user = store.get_user(membership.user_id)
        if user is not None:
            views.append(MemberView.of(user, membership))
    return views
