"""``imgate domain add|list|check|remove NS HOST`` and ``imgate domain hsts NS on|off``: custom domains."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.admin import AdminContext
from gateway.admin.domains import (
    DomainView,
    add_domain,
    check_domain,
    list_domains,
    remove_domain,
    set_domain_hsts,
)
from gateway.cli.args import when


def register(commands: Any) -> None:
    domain = commands.add_parser("domain", help="custom domains: a workspace's images at https://HOST/KEY")
    actions = domain.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a domain (pending) and print the DNS records to create")
    add.add_argument("namespace")
    add.add_argument("hostname", help="e.g. img.customer.com")
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="hostname, state, last check, reason")
    listing.add_argument("namespace")
    listing.set_defaults(handler=_list)
    check = actions.add_parser("check", help="check the DNS records now (verifies a pending domain)")
    check.add_argument("namespace")
    check.add_argument("hostname")
    check.set_defaults(handler=_check)
    remove = actions.add_parser("remove", help="stop serving a domain (no new certificate is issued for it)")
    remove.add_argument("namespace")
    remove.add_argument("hostname")
    remove.set_defaults(handler=_remove)
    hsts = actions.add_parser("hsts", help="Strict-Transport-Security on the workspace's custom domains")
    hsts.add_argument("namespace")
    hsts.add_argument("setting", choices=("on", "off"))
    hsts.set_defaults(handler=_hsts)


def _records(view: DomainView) -> None:
    print("Create one of these DNS records (a CNAME for a subdomain, the TXT record for an apex domain):")
    for record in view.records:
        print(f"  {record.name}\t{record.type}\t{record.value}")


def _line(view: DomainView) -> str:
    line = f"{view.hostname}\t{view.state}\tchecked {when(view.checked_at)}"
    return f"{line}\t{view.reason}" if view.reason else line


async def _add(args: argparse.Namespace, ctx: AdminContext) -> int:
    view = await add_domain(ctx, args.namespace, args.hostname)
    print(f"added {view.hostname} to {args.namespace}: {view.state}")
    _records(view)
    return 0


async def _list(args: argparse.Namespace, ctx: AdminContext) -> int:
    for view in await list_domains(ctx, args.namespace):
        print(_line(view))
    return 0


async def _check(args: argparse.Namespace, ctx: AdminContext) -> int:
    view = await check_domain(ctx, args.namespace, args.hostname)
    print(_line(view))
    if view.state != "verified":
        _records(view)
    return 0 if view.state == "verified" else 1


async def _remove(args: argparse.Namespace, ctx: AdminContext) -> int:
    view = await remove_domain(ctx, args.namespace, args.hostname)
    print(f"removed {view.hostname} from {args.namespace}")
    return 0


async def _hsts(args: argparse.Namespace, ctx: AdminContext) -> int:
    enabled = await set_domain_hsts(ctx, args.namespace, args.setting == "on")
    print(f"HSTS on the custom domains of {args.namespace}: {'on' if enabled else 'off'}")
    return 0
