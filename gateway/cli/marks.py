"""``imgate mark …`` and ``imgate rule …``: named watermark presets and the rules that force them."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from gateway.accounts.models import MarkPreset
from gateway.accounts.store import AccountStore
from gateway.marks.rules import compile_glob
from gateway.policy import HostPattern
from transforms.errors import InvalidParameter, UnsupportedImage
from transforms.marks import MarkSpec, parse_align, parse_alpha, parse_pad, parse_scale, parse_size, prepare_mark

MAX_UPLOAD = 2 * 1024 * 1024


def comma_list(value: str) -> tuple[str, ...]:
    """An argparse type: ``a, b,,c`` -> ("a", "b", "c")."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _preset_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--image-key", help="the mark image: a key in the workspace's own origin")
    source.add_argument("--image-file", type=Path, help="the mark image: a file uploaded into the gateway")
    source.add_argument("--text", help="a text mark")
    parser.add_argument("--font", help="text: font family (default sans)")
    parser.add_argument("--font-size", type=int, help="text: size in pixels")
    parser.add_argument("--color", help="text: colour, hex RGB or ARGB")
    parser.add_argument("--background", help="text: background colour, hex RGB or ARGB (default none)")
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
    for name in ("create", "update"):
        parser = actions.add_parser(name)
        parser.add_argument("namespace")
        parser.add_argument("name")
        _preset_arguments(parser)
    listing = actions.add_parser("list")
    listing.add_argument("namespace")
    delete = actions.add_parser("delete")
    delete.add_argument("namespace")
    delete.add_argument("name")

    rule = commands.add_parser("rule", help="manage auto-apply mark rules (the first match wins)")
    rule_actions = rule.add_subparsers(dest="action", required=True)
    add = rule_actions.add_parser("add")
    add.add_argument("namespace")
    add.add_argument("preset")
    add.add_argument("--keys", type=comma_list, default=(), help="source-key globs, e.g. 'premium/**,*.png'")
    add.add_argument("--src-hosts", type=comma_list, default=(), help="external source hosts, e.g. '*.stock.example'")
    add.add_argument("--position", type=int, help="1 = tried first (default: last)")
    rule_list = rule_actions.add_parser("list")
    rule_list.add_argument("namespace")
    move = rule_actions.add_parser("move")
    move.add_argument("namespace")
    move.add_argument("rule_id", type=int)
    move.add_argument("position", type=int)
    rule_delete = rule_actions.add_parser("delete")
    rule_delete.add_argument("namespace")
    rule_delete.add_argument("rule_id", type=int)


def _apply(args: argparse.Namespace, preset: MarkPreset) -> MarkPreset:
    changes: dict[str, Any] = {}
    if args.image_key:
        changes.update(kind="image", image_key=args.image_key, image_data=b"", text="")
    elif args.image_file:
        data = args.image_file.read_bytes()
        if len(data) > MAX_UPLOAD:
            raise ValueError(f"mark images are limited to {MAX_UPLOAD // 1024} KiB")
        changes.update(kind="image", image_data=data, image_key="", text="")
    elif args.text:
        changes.update(kind="text", text=args.text, image_key="", image_data=b"")
    for field in ("font", "font_size", "color", "background"):
        value = getattr(args, field)
        if value is not None:
            changes[field] = value
    if args.align is not None:
        parse_align(args.align, "align")
        changes["align"] = args.align
    if args.alpha is not None:
        changes["alpha"] = parse_alpha(args.alpha, "alpha")
    if args.scale is not None:
        changes["scale"] = parse_scale(args.scale, "scale")
    if args.pad is not None:
        changes["pad"] = parse_pad(args.pad, "pad")
    for field in ("w", "h"):
        value = getattr(args, field)
        if value is not None:
            changes[field] = parse_size(value, field)
    if args.tile is not None:
        changes["tile"] = args.tile
    updated = dataclasses.replace(preset, **changes)
    _check_renders(updated)
    return updated


def _check_renders(preset: MarkPreset) -> None:
    """Build the pixel-side spec once, so a bad colour or an unreadable upload fails here, not per request."""
    align = parse_align(preset.align, "align")
    if preset.kind == "text":
        prepare_mark(
            MarkSpec(
                text=preset.text,
                font=preset.font,
                font_size=preset.font_size,
                color=preset.color,
                background=preset.background or None,
                align=align,
            )
        )
    elif preset.image_data:
        prepare_mark(MarkSpec(image=preset.image_data, align=align))


def describe(preset: MarkPreset) -> dict[str, Any]:
    shown = {
        f.name: getattr(preset, f.name)
        for f in dataclasses.fields(MarkPreset)
        if f.name not in ("image_data", "namespace")
    }
    shown["uploaded_bytes"] = len(preset.image_data)
    return shown


def run(args: argparse.Namespace, store: AccountStore) -> int:
    try:
        if args.command == "mark":
            return _mark(args, store)
        return _rule(args, store)
    except (ValueError, InvalidParameter, UnsupportedImage) as exc:
        raise SystemExit(f"error: {exc}") from None


def _mark(args: argparse.Namespace, store: AccountStore) -> int:
    if store.get_workspace(args.namespace) is None:
        raise SystemExit(f"error: no workspace {args.namespace}")
    existing = {mark.name: mark for mark in store.list_marks(args.namespace)}
    if args.action == "list":
        for mark in existing.values():
            source = mark.image_key or ("upload" if mark.image_data else repr(mark.text))
            print(f"{mark.name}\t{mark.kind}\t{source}\t{mark.align}\talpha={mark.alpha}")
        return 0
    if args.action == "delete":
        if not store.delete_mark(args.namespace, args.name):
            raise SystemExit(f"error: no mark {args.name}")
        print(f"deleted mark {args.name}")
        return 0
    if args.action == "create":
        if args.name in existing:
            raise SystemExit(f"error: mark {args.name} already exists")
        if not (args.image_key or args.image_file or args.text):
            raise SystemExit("error: give --image-key, --image-file or --text")
        kind = "text" if args.text else "image"
        base = MarkPreset(
            args.namespace,
            args.name,
            kind=kind,
            image_key=args.image_key or "",
            text=args.text or "",
            image_data=b"" if not args.image_file else b"pending",
        )
    else:
        if args.name not in existing:
            raise SystemExit(f"error: no mark {args.name}")
        base = existing[args.name]
    stored = store.put_mark(_apply(args, base))
    print(json.dumps(describe(stored), indent=2))
    return 0


def _rule(args: argparse.Namespace, store: AccountStore) -> int:
    if store.get_workspace(args.namespace) is None:
        raise SystemExit(f"error: no workspace {args.namespace}")
    if args.action == "list":
        for rule in store.list_rules(args.namespace):
            keys = ",".join(rule.key_patterns) or "-"
            hosts = ",".join(rule.src_host_patterns) or "-"
            print(f"{rule.position}\tid={rule.rule_id}\t{rule.preset}\tkeys={keys}\tsrc-hosts={hosts}")
        return 0
    if args.action == "add":
        for pattern in args.keys:
            compile_glob(pattern)
        for pattern in args.src_hosts:
            HostPattern.compile(pattern)
        rule = store.add_rule(args.namespace, args.preset, args.keys, args.src_hosts, args.position)
        print(f"rule {rule.rule_id} at position {rule.position}: {rule.preset}")
        return 0
    if args.action == "move":
        rule = store.move_rule(args.namespace, args.rule_id, args.position)
        print(f"rule {rule.rule_id} at position {rule.position}")
        return 0
    if not store.delete_rule(args.namespace, args.rule_id):
        raise SystemExit(f"error: no rule {args.rule_id}")
    print(f"deleted rule {args.rule_id}")
    return 0
