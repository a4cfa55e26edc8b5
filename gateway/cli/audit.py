"""``imgate audit NS``: a workspace's audit log, newest first; ``imgate audit --prune``: apply the retention."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway import admin
from gateway.admin import AdminContext
from gateway.cli.args import CommandError, when


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="show a workspace's audit log, newest first")
    audit.add_argument("namespace", nargs="?")
    audit.add_argument("--limit", type=int, default=50, help="rows per page, 1-500 (default 50)")
    audit.add_argument("--cursor", help="the next page, as the previous page named it")
    audit.add_argument("--prune", action="store_true", help="instead: delete every row older than audit_retention_days")
    audit.set_defaults(handler=_audit)


async def _audit(args: argparse.Namespace, ctx: AdminContext) -> int:
    if args.prune:
        if args.namespace is not None:
            raise CommandError("--prune applies the retention to every workspace: give no namespace")
        pruned = await admin.prune_audit(ctx)
        print(f"pruned {pruned} audit rows older than {ctx.settings.audit_retention_days} days")
        return 0
    if args.namespace is None:
        raise CommandError("give the workspace whose audit log to show (or --prune)")
    page = await admin.list_audit(ctx, args.namespace, args.limit, args.cursor)
    for row in page.entries:
        print(f"{when(row.at)}\t{row.actor}\t{row.operation}\t{row.status}\t{row.latency_ms:.1f} ms")
    if page.next_cursor is not None:
        print(f"more: imgate audit {args.namespace} --limit {args.limit} --cursor {page.next_cursor}", file=sys.stderr)
    return 0
