"""``imgate workspace …``, ``imgate purge`` and ``imgate demo``: argparse in, admin call, printed result.

``workspace export|delete`` are in ``gateway.cli.data``, ``workspace limits|billing`` in ``gateway.cli.plans``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from gateway import admin
from gateway.accounts.models import PLANS
from gateway.admin import AdminContext, OriginChanges, WorkspaceChanges
from gateway.admin.origins import ADDRESSING_STYLES, ORIGIN_CHOICES
from gateway.cli import data, plans
from gateway.cli.args import CommandError, comma_list
from gateway.settings import ORIGIN_SECRET_VARIABLE

_ORIGIN_FIELDS = ("root", "base_url", "bucket", "prefix", "region", "endpoint", "addressing_style", "access_key_id")


def _settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--origin", choices=ORIGIN_CHOICES, help="kind of storage holding the originals")
    parser.add_argument("--root", help="local: folder of the originals")
    parser.add_argument("--base-url", help="http: URL prefix the image key is appended to")
    parser.add_argument("--bucket", help="s3, r2: bucket name")
    parser.add_argument("--prefix", help="s3, r2: key prefix inside the bucket (a folder)")
    parser.add_argument("--region", help="s3: region (r2: auto)")
    parser.add_argument("--endpoint", help="s3, r2: endpoint URL for R2, MinIO and other S3-compatible stores")
    parser.add_argument("--addressing-style", choices=ADDRESSING_STYLES, help="s3: URL style")
    parser.add_argument(
        "--access-key-id",
        help=(
            f"s3, r2: access key id; the secret is read from ${ORIGIN_SECRET_VARIABLE} or prompted for, "
            "never from arguments"
        ),
    )
    parser.add_argument("--allowed-origins", type=comma_list, help="CORS origins, comma-separated ('*' = any)")
    parser.add_argument("--allowed-sources", type=comma_list, help="hosts allowed for ?src=, comma-separated")
    parser.add_argument("--capture-domains", type=comma_list, help="hosts allowed for ?capture=, comma-separated")
    parser.add_argument(
        "--disable-capture-domain",
        action="append",
        metavar="PATTERN",
        help="one of the capture domains: take no new captures of it (rendered ones are still served); repeatable",
    )
    parser.add_argument(
        "--enable-capture-domain",
        action="append",
        metavar="PATTERN",
        help="one of the capture domains: take new captures of it again; repeatable",
    )
    parser.add_argument(
        "--ip-allowlist",
        type=comma_list,
        help="networks (CIDR) the management API accepts clients from, comma-separated ('' = any; plans with it)",
    )
    parser.add_argument("--retention", type=int, help="seconds a capture is kept in the caches (0 = none)")
    parser.add_argument(
        "--imgix-compat",
        choices=("strict", "lenient"),
        help="imgix parameters imgate lacks: refused (strict) or left out and named in X-Imgate-Ignored (lenient)",
    )
    parser.add_argument(
        "--keep-copyright",
        action=argparse.BooleanOptionalAction,
        help="outputs keep the source's copyright and artist (EXIF, IPTC, XMP); every other field is stripped",
    )
    parser.add_argument(
        "--fallback-image",
        metavar="KEY",
        help="a key on the origin answered, with the error's status, instead of a JSON error ('' = off)",
    )
    parser.add_argument(
        "--capture-jobs-allow-http",
        action=argparse.BooleanOptionalAction,
        help="capture jobs may take http:// pages and webhooks (only where the gateway's setting allows it too)",
    )
    parser.add_argument("--plan", choices=PLANS)


def register(commands: Any) -> None:
    workspace = commands.add_parser("workspace", help="manage workspaces")
    actions = workspace.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create")
    create.add_argument("namespace")
    _settings_arguments(create)
    create.set_defaults(handler=_create)
    actions.add_parser("list").set_defaults(handler=_list)
    show = actions.add_parser("show")
    show.add_argument("namespace")
    show.set_defaults(handler=_show)
    update = actions.add_parser("update")
    update.add_argument("namespace")
    _settings_arguments(update)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--activate", dest="active", action="store_const", const=True)
    state.add_argument("--deactivate", dest="active", action="store_const", const=False)
    update.add_argument(
        "--revision", type=int, help="refuse the change if the workspace is no longer at this revision (see show)"
    )
    update.set_defaults(handler=_update)
    check = actions.add_parser("check", help="read one key from the origin and say what is wrong, if anything")
    check.add_argument("namespace")
    check.add_argument("--key", help="the key to read (s3: default, the first object under the prefix)")
    check.set_defaults(handler=_check)
    data.register_workspace_actions(actions)
    plans.register_workspace_actions(actions)

    commands.add_parser("demo", help="create or refresh the demo workspace and print example URLs").set_defaults(
        handler=_demo
    )
    purge = commands.add_parser("purge", help="drop cached outputs of a workspace, or of a source-key prefix in it")
    purge.add_argument("namespace")
    purge.add_argument(
        "prefix",
        nargs="?",
        default="",
        help="a source-key prefix: the start of origin keys, or of ?src= or ?capture= URLs",
    )
    purge.set_defaults(handler=_purge)


def _read_secret() -> str:
    secret = os.environ.get(ORIGIN_SECRET_VARIABLE)
    if secret:
        return secret
    if not sys.stdin.isatty():
        raise CommandError(
            f"set {ORIGIN_SECRET_VARIABLE} to give the secret access key (it is never read from arguments)"
        )
    return getpass.getpass("secret access key: ")


def _changes(args: argparse.Namespace) -> WorkspaceChanges:
    origin = None
    given = {name: getattr(args, name) for name in _ORIGIN_FIELDS if getattr(args, name) is not None}
    if args.origin is not None or given:
        secret = _read_secret() if given.get("access_key_id") else None
        origin = OriginChanges(kind=args.origin, secret_access_key=secret, **given)
    return WorkspaceChanges(
        origin=origin,
        allowed_origins=args.allowed_origins,
        allowed_sources=args.allowed_sources,
        allowed_capture_domains=args.capture_domains,
        switch_capture_domains=_switches(args),
        ip_allowlist=args.ip_allowlist,
        capture_retention=args.retention,
        imgix_compat=args.imgix_compat,
        keep_copyright=args.keep_copyright,
        fallback_image=args.fallback_image,
        capture_jobs_allow_http=args.capture_jobs_allow_http,
        plan=args.plan,
        active=getattr(args, "active", None),
    )


def _switches(args: argparse.Namespace) -> tuple[tuple[str, bool], ...] | None:
    switches = [(pattern, False) for pattern in args.disable_capture_domain or ()]
    switches += [(pattern, True) for pattern in args.enable_capture_domain or ()]
    return tuple(switches) or None


def _print_workspace(view: admin.WorkspaceView) -> int:
    print(json.dumps(view.as_dict(), indent=2))
    return 0


async def _create(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print_workspace(await admin.create_workspace(ctx, args.namespace, _changes(args)))


async def _update(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print_workspace(await admin.update_workspace(ctx, args.namespace, _changes(args), revision=args.revision))


async def _show(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print_workspace(await admin.show_workspace(ctx, args.namespace))


async def _list(args: argparse.Namespace, ctx: AdminContext) -> int:
    for ws in await admin.list_workspaces(ctx):
        print(f"{ws.namespace}\t{'active' if ws.active else 'inactive'}\t{ws.origin['kind']}\t{ws.plan}")
    return 0


async def _check(args: argparse.Namespace, ctx: AdminContext) -> int:
    result = await admin.check_origin(ctx, args.namespace, args.key)
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(("ok: " if result.ok else "problem: ") + result.message)
    return 0 if result.ok else 1


async def _purge(args: argparse.Namespace, ctx: AdminContext) -> int:
    result = await admin.purge(ctx, args.namespace, args.prefix)
    print(f"purged {result.namespace}{'/' + result.prefix if result.prefix else ''}: {result.removed} stored outputs")
    return 0


async def _demo(args: argparse.Namespace, ctx: AdminContext) -> int:
    seed = await admin.seed_demo(ctx)
    print("Demo workspace 'demo' serves the images in config/demo/images. Try:")
    for example in seed.examples:
        print(f"  {example.label}:\n    {example.url}")
    print(f"  health: {seed.health_url}")
    return 0
