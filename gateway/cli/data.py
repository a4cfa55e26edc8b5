"""``imgate workspace export|delete`` and ``imgate receipt verify``: a workspace's data out, or gone with proof."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway import admin
from gateway.admin import AdminContext
from gateway.cli.args import CommandError, when

_MAX_RECEIPT = 64 * 1024


def register_workspace_actions(actions: Any) -> None:
    export = actions.add_parser("export", help="print everything stored about the workspace as one JSON document")
    export.add_argument("namespace")
    export.set_defaults(handler=_export)
    delete = actions.add_parser(
        "delete", help="delete the workspace with all its data and stored outputs; prints a signed receipt"
    )
    delete.add_argument("namespace")
    delete.set_defaults(handler=_delete)


def register(commands: Any) -> None:
    receipt = commands.add_parser("receipt", help="check deletion receipts")
    actions = receipt.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", help="check that this gateway signed a receipt and nothing in it changed")
    verify.add_argument("file", help="the receipt's JSON file, or - for standard input")
    verify.set_defaults(handler=_verify)


async def _export(args: argparse.Namespace, ctx: AdminContext) -> int:
    print(json.dumps(await admin.export_workspace(ctx, args.namespace), indent=2))
    return 0


async def _delete(args: argparse.Namespace, ctx: AdminContext) -> int:
    receipt = await admin.delete_workspace_with_receipt(ctx, args.namespace)
    print(json.dumps(receipt.as_dict(), indent=2))
    removed = receipt.removed["stored_outputs"]
    print(f"deleted {args.namespace} ({removed} stored outputs removed); keep the receipt above", file=sys.stderr)
    return 0


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read(_MAX_RECEIPT + 1)
    path = Path(name)
    try:
        with path.open(encoding="utf-8") as file:
            return file.read(_MAX_RECEIPT + 1)
    except FileNotFoundError:
        raise CommandError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{name}: is a folder, not a receipt file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{name}: not a JSON receipt") from None


async def _verify(args: argparse.Namespace, ctx: AdminContext) -> int:
    text = _read(args.file)
    if len(text) > _MAX_RECEIPT:
        raise CommandError(f"{args.file}: too large to be a receipt")
    try:
        receipt = json.loads(text)
    except ValueError:
        raise CommandError(f"{args.file}: not a JSON receipt") from None
    if not await admin.verify_receipt(ctx, receipt):
        raise CommandError("the receipt is not genuine: it was changed, or signed by a gateway with another secret_key")
    removed = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in receipt["removed"].items())
    print(f"genuine: workspace {receipt['namespace']} deleted at {when(receipt['deleted_at'])}; removed {removed}")
    return 0
