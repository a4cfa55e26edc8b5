"""``imgate audit NS [--actor A] [--operation O]``: a workspace's audit log, newest first, optionally only the rows
whose actor / operation contains that text; ``imgate audit --prune``: apply the retention."""

from __future__ import annotations

import argparse
import shlex
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
    audit.add_argument("--actor", help="only rows whose actor contains this text (key:<prefix>, an email, cli)")
    audit.add_argument("--operation", help="only rows whose operation contains this text (workspace., /marks)")
    audit.add_argument("--prune", action="store_true", help="instead: delete every row older than audit_retention_days")
    audit.set_defaults(handler=_audit)


async def _audit(args: argparse.Namespace, ctx: AdminContext) -> int:
    if args.prune:
        if args.namespace is not None:
            raise CommandError("--prune applies the retention to every workspace: give no namespace")
        if args.actor is not None or args.operation is not None:
            raise CommandError("--prune deletes by age only: give no --actor or --operation")
        pruned = await admin.prune_audit(ctx)
        print(f"pruned {pruned} audit rows older than {ctx.settings.audit_retention_days} days")
        return 0
    if args.namespace is None:
        raise CommandError("give the workspace whose audit log to show (or --prune)")
    # An empty filter (--actor '') filters nothing, as in the API.
    actor, operation = args.actor or None, args.operation or None
    page = await admin.list_audit(ctx, args.namespace, args.limit, args.cursor, actor=actor, operation=operation)
    for row in page.entries:
        print(f"{when(row.at)}\t{row.actor}\t{row.operation}\t{row.status}\t{row.latency_ms:.1f} ms")
    if page.next_cursor is not None:
        # The next page needs the same filters; quoted, so the line can be pasted into a shell as it is.
        filters = "".join(
            f" --{name} {shlex.quote(text)}" for name, text in (("actor", actor), ("operation", operation)) if text
        )
        print(
            f"more: imgate audit {args.namespace} --limit {args.limit}{filters} --cursor {page.next_cursor}",
            file=sys.stderr,
        )
    return 0
