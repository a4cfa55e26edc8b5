"""``imgate preset …``: named transform presets, default parameters and allowed widths of a workspace."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gateway.accounts.presets import WIDTH_ROUNDING
from gateway.admin import AdminContext
from gateway.admin.presets import (
    UrlShapingView,
    delete_preset,
    put_preset,
    set_allowed_widths,
    set_default_params,
    show_url_shaping,
)


def _widths(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("pixel widths, comma-separated, such as 320,640,1280") from None


def register(commands: Any) -> None:
    preset = commands.add_parser("preset", help="transform presets, default parameters and allowed widths")
    actions = preset.add_subparsers(dest="action", required=True)
    show = actions.add_parser("list", help="presets, default parameters and allowed widths, as JSON")
    show.add_argument("namespace")
    show.set_defaults(handler=_show)
    put = actions.add_parser("set", help="create or replace a preset: preset=NAME in a URL expands to PARAMS")
    put.add_argument("namespace")
    put.add_argument("name")
    put.add_argument("params", help="a query string such as 'w=400&h=300&fit=crop'")
    put.add_argument("--locked", action="store_true", help="URL parameters cannot override the preset's")
    put.set_defaults(handler=_put)
    delete = actions.add_parser("delete", help="delete a preset")
    delete.add_argument("namespace")
    delete.add_argument("name")
    delete.set_defaults(handler=_delete)
    defaults = actions.add_parser("defaults", help="parameters every URL gets, under its own ('' clears)")
    defaults.add_argument("namespace")
    defaults.add_argument("params", help="a query string such as 'auto=format'")
    defaults.set_defaults(handler=_defaults)
    widths = actions.add_parser("widths", help="the only widths rendered ('' allows any)")
    widths.add_argument("namespace")
    widths.add_argument("widths", type=_widths)
    widths.add_argument("--rounding", choices=WIDTH_ROUNDING, default="up", help="up (default) or refuse")
    widths.set_defaults(handler=_widths_handler)


def _print(view: UrlShapingView) -> int:
    print(json.dumps(view.as_dict(), indent=2))
    return 0


async def _show(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print(await show_url_shaping(ctx, args.namespace))


async def _put(args: argparse.Namespace, ctx: AdminContext) -> int:
    preset = await put_preset(ctx, args.namespace, args.name, args.params, args.locked)
    print(f"preset {preset.name}: {preset.params}{' (locked)' if preset.locked else ''}")
    return 0


async def _delete(args: argparse.Namespace, ctx: AdminContext) -> int:
    await delete_preset(ctx, args.namespace, args.name)
    print(f"deleted preset {args.name}")
    return 0


async def _defaults(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print(await set_default_params(ctx, args.namespace, args.params))


async def _widths_handler(args: argparse.Namespace, ctx: AdminContext) -> int:
    return _print(await set_allowed_widths(ctx, args.namespace, args.widths, args.rounding))
