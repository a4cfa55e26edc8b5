"""``imgate workspace limits`` and ``imgate workspace billing``: a workspace's plan limits and its Stripe customer.

``limits NS`` shows the effective limits (the plan's, with the operator's overrides); each option sets one
override, ``plan`` as its value drops it (the plan's value applies again), ``--clear`` drops them all.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from typing import Any

from gateway import admin
from gateway.accounts.plans import PlanOverrides
from gateway.admin import AdminContext, Invalid

# An option's value that drops the override.
PLAN_VALUE = "plan"
_COUNTS = (
    "requests_per_second",
    "burst",
    "renders_per_month",
    "captures_per_month",
    "bytes_out_per_month",
    "custom_domains",
    "dedicated_browsers",
)
_SWITCHES = ("ip_allowlisting", "signed_webhooks")
_UNSET = object()


def _count(value: str) -> object:
    if value == PLAN_VALUE:
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, or '{PLAN_VALUE}' for the plan's value") from None


def _switch(value: str) -> object:
    choices: dict[str, bool | None] = {"yes": True, "no": False, PLAN_VALUE: None}
    if value not in choices:
        raise argparse.ArgumentTypeError(f"yes, no, or '{PLAN_VALUE}' for the plan's value")
    return choices[value]


def _seconds_list(value: str) -> object:
    if value == PLAN_VALUE:
        return None
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"seconds, comma-separated, or '{PLAN_VALUE}'") from None


def register_workspace_actions(actions: Any) -> None:
    limits = actions.add_parser("limits", help="show or override the plan's limits of a workspace")
    limits.add_argument("namespace")
    parsers: dict[str, Callable[[str], object]] = {name: _count for name in _COUNTS}
    parsers.update({name: _switch for name in _SWITCHES})
    parsers["capture_retention_options"] = _seconds_list
    for name, parse in parsers.items():
        limits.add_argument("--" + name.replace("_", "-"), dest=name, type=parse, default=_UNSET, metavar="VALUE")
    limits.add_argument("--clear", action="store_true", help="drop every override: the plan's limits apply")
    limits.set_defaults(handler=_limits, override_names=tuple(parsers))

    billing = actions.add_parser("billing", help="bind the workspace to the Stripe customer that pays for it")
    billing.add_argument("namespace")
    billing.add_argument("--stripe-customer", required=True, help="cus_…, or '' to unbind")
    billing.set_defaults(handler=_billing)


def _print_limits(view: admin.WorkspaceView) -> int:
    shown = view.as_dict()
    print(json.dumps({name: shown[name] for name in ("plan", "limits", "limit_overrides", "billing")}, indent=2))
    return 0


async def _limits(args: argparse.Namespace, ctx: AdminContext) -> int:
    given = {name: getattr(args, name) for name in args.override_names if getattr(args, name) is not _UNSET}
    if not given and not args.clear:
        return _print_limits(await admin.show_workspace(ctx, args.namespace))
    current = (
        PlanOverrides()
        if args.clear
        else PlanOverrides.from_dict((await admin.show_workspace(ctx, args.namespace)).limit_overrides)
    )
    try:
        overrides = dataclasses.replace(current, **given)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return _print_limits(await admin.set_limit_overrides(ctx, args.namespace, overrides))


async def _billing(args: argparse.Namespace, ctx: AdminContext) -> int:
    view = await admin.bind_stripe_customer(ctx, args.namespace, args.stripe_customer)
    print(json.dumps(dict(view.billing), indent=2))
    return 0
