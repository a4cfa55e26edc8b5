"""``imgate signing …``: signed image URLs of a workspace. A new secret is printed once, when it is made.

An imported secret (an imgix ``secureURLToken`` being carried over) is read from ``IMGATE_SIGNING_SECRET``
or prompted for, never taken from the command line, where it would land in shell history and process lists.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from gateway.accounts.signing import SCHEMES, SIGNING_MODES
from gateway.admin import AdminContext
from gateway.admin.signing import SigningView, remove_secret, rotate_secret, set_signing, show_signing
from gateway.cli.args import CommandError, when
from gateway.settings import SIGNING_SECRET_VARIABLE


def register(commands: Any) -> None:
    signing = commands.add_parser("signing", help="require signed image URLs and rotate their secrets")
    actions = signing.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="the mode and the active secrets (by id; never a secret)")
    show.add_argument("namespace")
    show.set_defaults(handler=_show)
    mode = actions.add_parser("mode", help="off, or required: only signed URLs are answered")
    mode.add_argument("namespace")
    mode.add_argument("mode", choices=SIGNING_MODES)
    mode.set_defaults(handler=_mode)
    rotate = actions.add_parser(
        "rotate", help="make a new secret and print it (once); a scheme's older of two is retired"
    )
    rotate.add_argument("namespace")
    rotate.add_argument("--scheme", choices=SCHEMES, default="imgate", help="imgate (HMAC-SHA256) or imgix (MD5)")
    rotate.add_argument(
        "--import",
        dest="imported",
        action="store_true",
        help=f"use an existing secret (an imgix token) from {SIGNING_SECRET_VARIABLE} or a prompt",
    )
    rotate.set_defaults(handler=_rotate)
    remove = actions.add_parser("remove", help="retire a secret: URLs it signed stop verifying at once")
    remove.add_argument("namespace")
    remove.add_argument("key_id", help="the secret's id, as signing show lists it")
    remove.set_defaults(handler=_remove)


def _print(view: SigningView) -> int:
    print(f"signing {view.mode}")
    for key in view.keys:
        print(f"{key.key_id}\t{key.scheme}\tcreated {when(key.created_at)}")
    return 0


async def _show(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print(await show_signing(ctx, args.namespace))


async def _mode(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print(await set_signing(ctx, args.namespace, args.mode))


async def _rotate(args: argparse.Namespace, ctx: AdminContext) -> int:
    imported = _read_secret() if args.imported else None
    created = await rotate_secret(ctx, args.namespace, args.scheme, imported)
    if not args.imported:
        # The secret alone on stdout, so `SECRET=$(imgate signing rotate …)` captures exactly it.
        print(created.secret)
    retired = f"; retired {created.retired}" if created.retired else ""
    print(f"added {created.key.scheme} secret {created.key.key_id} to {args.namespace}{retired}", file=sys.stderr)
    return 0


async def _remove(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print(await remove_secret(ctx, args.namespace, args.key_id))


def _read_secret() -> str:
    secret = os.environ.get(SIGNING_SECRET_VARIABLE)
    if secret:
        return secret
    if not sys.stdin.isatty():
        raise CommandError(f"set {SIGNING_SECRET_VARIABLE} to import a secret (it is never read from arguments)")
    return getpass.getpass("signing secret: ")
