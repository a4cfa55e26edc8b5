"""``imgate key …``: API keys for the management API. The secret is printed once, at creation."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway import admin
from gateway.accounts.keys import SCOPES
from gateway.admin import AdminContext
from gateway.cli.args import when


def register(commands: Any) -> None:
    key = commands.add_parser("key", help="manage API keys of the management API")
    actions = key.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key and print its secret (shown only this once)")
    create.add_argument("namespace")
    create.add_argument("--name", required=True, help='a label such as "Production"')
    create.add_argument("--scope", choices=SCOPES, default="read", help="write implies read (default: read)")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="prefix, name, scope, created, last used, state")
    listing.add_argument("namespace")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a key: it stops authenticating at once")
    revoke.add_argument("namespace")
    revoke.add_argument("prefix", help="the key's 12-character prefix, as key list shows it")
    revoke.set_defaults(handler=_revoke)


async def _create(args: argparse.Namespace, ctx: AdminContext) -> int:
    created = await admin.create_key(ctx, args.namespace, args.name, args.scope)
    # The secret alone on stdout, so `KEY=$(imgate key create …)` captures exactly it; the rest on stderr.
    print(created.secret)
    print(
        f"created key {created.key.prefix} ({created.key.name}, {created.key.scope}) in {args.namespace}. "
        "Store the secret above now: it will not be shown again.",
        file=sys.stderr,
    )
    return 0


async def _list(args: argparse.Namespace, ctx: AdminContext) -> int:
    for key in await admin.list_keys(ctx, args.namespace):
        state = f"revoked {when(key.revoked_at)}" if key.revoked else "active"
        print(
            f"{key.prefix}\t{key.name}\t{key.scope}\tcreated {when(key.created_at)}\t"
            f"last used {when(key.last_used_at)}\t{state}"
        )
    return 0


async def _revoke(args: argparse.Namespace, ctx: AdminContext) -> int:
    key = await admin.revoke_key(ctx, args.namespace, args.prefix)
    print(f"revoked key {key.prefix} ({key.name}) at {when(key.revoked_at)}")
    return 0
