"""``imgate usage NS [--days N]``: a workspace's usage counters, one line per UTC day, and the totals."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.admin import AdminContext
from gateway.admin.usage import DEFAULT_DAYS, default_range, totals, usage

_COLUMNS = ("day", "requests", "memory", "store", "renders", "captures", "bytes_out", "304s", "errors")


def register(commands: Any) -> None:
    parser = commands.add_parser("usage", help="show a workspace's usage per UTC day (requests, hits, renders, ...)")
    parser.add_argument("namespace")
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"the last N UTC days, today included (default {DEFAULT_DAYS})"
    )
    parser.set_defaults(handler=_usage)


async def _usage(args: argparse.Namespace, ctx: AdminContext) -> int:
    first, last = default_range(args.days)
    days = await usage(ctx, args.namespace, first, last)
    print("\t".join(_COLUMNS))
    for day in days:
        errors = ",".join(f"{code}={n}" for code, n in sorted(day.errors.items())) or "-"
        cells = (day.requests, day.hits_memory, day.hits_store, day.renders, day.captures, day.bytes_out)
        print("\t".join([day.day.isoformat(), *map(str, cells), str(day.not_modified), errors]))
    summed = totals(days)
    print(
        f"total {first.isoformat()} .. {last.isoformat()}: {summed.requests} requests, {summed.renders} renders, "
        f"{summed.captures} captures, {summed.bytes_out} bytes out"
    )
    return 0
