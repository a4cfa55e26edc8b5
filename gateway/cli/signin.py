"""``imgate signin prune``: delete the dashboard's dead sign-in codes and sessions.

Asking for a code and signing in prune as they go; this is for a gateway nobody signs in to for a while (a
cron line), and for an operator who wants the table small now.
"""

from __future__ import annotations

import argparse
from typing import Any

from gateway import admin
from gateway.admin import AdminContext


def register(commands: Any) -> None:
    signin = commands.add_parser("signin", help="the dashboard's sign-in codes and sessions")
    actions = signin.add_subparsers(dest="action", required=True)
    prune = actions.add_parser(
        "prune", help="delete codes a day past their expiry and sessions past their 14 days (or revoked as long ago)"
    )
    prune.set_defaults(handler=_prune)


async def _prune(args: argparse.Namespace, ctx: AdminContext) -> int:
    pruned = await admin.prune_signins(ctx)
    print(f"pruned {pruned.codes} sign-in codes and {pruned.sessions} sessions")
    return 0
