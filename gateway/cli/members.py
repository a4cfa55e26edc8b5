"""``imgate member …``: the people of a workspace, by email address, each an owner or a member."""

from __future__ import annotations

import argparse
from typing import Any

from gateway import admin
from gateway.accounts.users import ROLES
from gateway.admin import AdminContext
from gateway.cli.args import when


def register(commands: Any) -> None:
    member = commands.add_parser("member", help="manage the members of a workspace")
    actions = member.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a member (the user is created on first sight)")
    add.add_argument("namespace")
    add.add_argument("email")
    add.add_argument("--role", choices=ROLES, default="member")
    add.set_defaults(handler=_add)
    remove = actions.add_parser("remove", help="remove a member (never the last owner)")
    remove.add_argument("namespace")
    remove.add_argument("email")
    remove.set_defaults(handler=_remove)
    role = actions.add_parser("role", help="make a member an owner, or an owner a member")
    role.add_argument("namespace")
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=_role)
    listing = actions.add_parser("list")
    listing.add_argument("namespace")
    listing.set_defaults(handler=_list)


def _print_member(view: admin.MemberView) -> None:
    print(f"{view.email}\t{view.role}\tlast sign-in {when(view.last_sign_in_at)}")


async def _add(args: argparse.Namespace, ctx: AdminContext) -> int:
    _print_member(await admin.add_member(ctx, args.namespace, args.email, args.role))
    return 0


async def _remove(args: argparse.Namespace, ctx: AdminContext) -> int:
    await admin.remove_member(ctx, args.namespace, args.email)
    print(f"removed the member from {args.namespace}")
    return 0


async def _role(args: argparse.Namespace, ctx: AdminContext) -> int:
    _print_member(await admin.change_role(ctx, args.namespace, args.email, args.role))
    return 0


async def _list(args: argparse.Namespace, ctx: AdminContext) -> int:
    for view in await admin.list_members(ctx, args.namespace):
        _print_member(view)
    return 0
