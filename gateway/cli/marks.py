"""``imgate mark …`` and ``imgate rule …``: named watermark presets and the rules that force them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gateway import admin
from gateway.admin import AdminContext, MarkChanges
from gateway.admin.marks import MAX_UPLOAD
from gateway.cli.args import CommandError, comma_list

_PLACEMENT = ("font", "font_size", "color", "background", "align", "alpha", "scale", "pad", "w", "h")


def _preset_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--image-key", help="the mark image: a key in the workspace's own origin")
    source.add_argument("--image-file", type=Path, help="the mark image: a file uploaded into the gateway")
    source.add_argument("--text", help="a text mark")
    parser.add_argument("--font", help="text: font family (default sans)")
    parser.add_argument("--font-size", help="text: size in pixels")
    parser.add_argument("--color", help="text: colour, hex RGB or ARGB")
    parser.add_argument("--background", help="text: background colour, hex RGB or ARGB ('' = none)")
    parser.add_argument("--align", help="e.g. bottom,right (default) or top,left or middle,center")
    parser.add_argument("--alpha", help="opacity 0-100")
    parser.add_argument("--scale", help="width as a percentage of the output width, 0-100")
    parser.add_argument("--pad", help="distance from the edges in pixels")
    parser.add_argument("--w", help="fixed mark width in pixels")
    parser.add_argument("--h", help="fixed mark height in pixels")
    tile = parser.add_mutually_exclusive_group()
    tile.add_argument("--tile", dest="tile", action="store_const", const=True, help="repeat across the image")
    tile.add_argument("--no-tile", dest="tile", action="store_const", const=False)


def register(commands: Any) -> None:
    mark = commands.add_parser("mark", help="manage watermark presets")
    actions = mark.add_subparsers(dest="action", required=True)
    for name, handler in (("create", _create), ("update", _update)):
        parser = actions.add_parser(name)
        parser.add_argument("namespace")
        parser.add_argument("name")
        _preset_arguments(parser)
        parser.set_defaults(handler=handler)
    listing = actions.add_parser("list")
    listing.add_argument("namespace")
    listing.set_defaults(handler=_list)
    for name, handler in (("show", _show), ("delete", _delete)):
        parser = actions.add_parser(name)
        parser.add_argument("namespace")
        parser.add_argument("name")
        parser.set_defaults(handler=handler)

    rule = commands.add_parser("rule", help="manage auto-apply mark rules (the first match wins)")
    rule_actions = rule.add_subparsers(dest="action", required=True)
    add = rule_actions.add_parser("add")
    add.add_argument("namespace")
    add.add_argument("preset")
    add.add_argument("--keys", type=comma_list, default=(), help="source-key globs, e.g. 'premium/**,*.png'")
    add.add_argument("--src-hosts", type=comma_list, default=(), help="external source hosts, e.g. '*.stock.example'")
    add.add_argument("--position", type=int, help="1 = tried first (default: last)")
    add.set_defaults(handler=_rule_add)
    rule_list = rule_actions.add_parser("list")
    rule_list.add_argument("namespace")
    rule_list.set_defaults(handler=_rule_list)
    move = rule_actions.add_parser("move")
    move.add_argument("namespace")
    move.add_argument("rule_id", type=int)
    move.add_argument("position", type=int)
    move.set_defaults(handler=_rule_move)
    rule_delete = rule_actions.add_parser("delete")
    rule_delete.add_argument("namespace")
    rule_delete.add_argument("rule_id", type=int)
    rule_delete.set_defaults(handler=_rule_delete)


def _upload(path: Path) -> bytes:
    """The file's bytes; at most one byte over the upload limit is read, so the admin layer can refuse it."""
    if path.is_dir():
        raise CommandError(f"--image-file {path}: is a folder, not an image file")
    try:
        with path.open("rb") as file:
            return file.read(MAX_UPLOAD + 1)
    except FileNotFoundError:
        raise CommandError(f"--image-file {path}: no such file") from None
    except OSError as exc:
        raise CommandError(f"--image-file {path}: {exc.strerror or type(exc).__name__}") from None


def _changes(args: argparse.Namespace) -> MarkChanges:
    return MarkChanges(
        image_key=args.image_key,
        image_data=_upload(args.image_file) if args.image_file is not None else None,
        text=args.text,
        tile=args.tile,
        **{name: getattr(args, name) for name in _PLACEMENT},
    )


def _print_mark(view: admin.MarkView) -> int:
    print(json.dumps(view.as_dict(), indent=2))
    return 0


async def _create(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print_mark(await admin.create_mark(ctx, args.namespace, args.name, _changes(args)))


async def _update(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print_mark(await admin.update_mark(ctx, args.namespace, args.name, _changes(args)))


async def _show(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print_mark(await admin.show_mark(ctx, args.namespace, args.name))


async def _list(args: argparse.Namespace, ctx: AdminContext) -> int:
    for mark in await admin.list_marks(ctx, args.namespace):
        source = mark.image_key or ("upload" if mark.uploaded_bytes else repr(mark.text))
        print(f"{mark.name}\t{mark.kind}\t{source}\t{mark.align}\talpha={mark.alpha}")
    return 0


async def _delete(args: argparse.Namespace, ctx: AdminContext) -> int:
    await admin.delete_mark(ctx, args.namespace, args.name)
    print(f"deleted mark {args.name}")
    return 0


async def _rule_add(args: argparse.Namespace, ctx: AdminContext) -> int:
    rule = await admin.add_rule(ctx, args.namespace, args.preset, args.keys, args.src_hosts, args.position)
    print(f"rule {rule.rule_id} at position {rule.position}: {rule.preset}")
    return 0


async def _rule_list(args: argparse.Namespace, ctx: AdminContext) -> int:
    for rule in await admin.list_rules(ctx, args.namespace):
        keys = ",".join(rule.key_patterns) or "-"
        hosts = ",".join(rule.src_host_patterns) or "-"
        print(f"{rule.position}\tid={rule.rule_id}\t{rule.preset}\tkeys={keys}\tsrc-hosts={hosts}")
    return 0


async def _rule_move(args: argparse.Namespace, ctx: AdminContext) -> int:
    rule = await admin.move_rule(ctx, args.namespace, args.rule_id, args.position)
    print(f"rule {rule.rule_id} at position {rule.position}")
    return 0


async def _rule_delete(args: argparse.Namespace, ctx: AdminContext) -> int:
    await admin.delete_rule(ctx, args.namespace, args.rule_id)
    print(f"deleted rule {args.rule_id}")
    return 0
