"""Auto-apply rules: add, list, move and delete. Position 1 is tried first; the first match wins.

A rule is compiled with ``gateway.marks.rules.CompiledRule`` when it is added, exactly as the tenancy cache
compiles it, so a glob or host pattern the request path could not use is refused here.
"""

from __future__ import annotations

from gateway.accounts.models import MarkRule
from gateway.accounts.store import WorkspaceMissing
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Invalid, NotFound
from gateway.admin.roles import require
from gateway.admin.workspaces import load
from gateway.marks.rules import CompiledRule


def _checked_position(position: int | None) -> int | None:
    if position is not None and position < 1:
        raise Invalid("position: must be 1 (tried first) or more", "position")
    return position


async def list_rules(ctx: AdminContext, namespace: str) -> list[MarkRule]:
    """In the order they are tried."""
    await load(ctx, namespace)
    return await ctx.call(ctx.store.list_rules, namespace)


@audited("rule.add")
async def add_rule(
    ctx: AdminContext,
    namespace: str,
    preset: str,
    key_patterns: tuple[str, ...] = (),
    src_host_patterns: tuple[str, ...] = (),
    position: int | None = None,
) -> MarkRule:
    """Stamp ``preset`` on sources whose key matches a glob or whose external host matches a pattern."""
    require(ctx, namespace, "edit")
    await load(ctx, namespace)
    _checked_position(position)
    try:
        CompiledRule.compile(MarkRule(namespace, 0, 1, preset, tuple(key_patterns), tuple(src_host_patterns)))
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    if preset not in {mark.name for mark in await ctx.call(ctx.store.list_marks, namespace)}:
        raise Invalid(f"preset: no mark named {preset} in {namespace}", "preset")
    try:
        return await ctx.call(
            ctx.store.add_rule, namespace, preset, tuple(key_patterns), tuple(src_host_patterns), position
        )
    except WorkspaceMissing:
        raise NotFound(f"no workspace {namespace}") from None
    except ValueError as exc:  # the preset went away meanwhile
        raise Invalid(str(exc)) from None


@audited("rule.move")
async def move_rule(ctx: AdminContext, namespace: str, rule_id: int, position: int) -> MarkRule:
    require(ctx, namespace, "edit")
    await _existing(ctx, namespace, rule_id)
    _checked_position(position)
    try:
        return await ctx.call(ctx.store.move_rule, namespace, rule_id, position)
    except ValueError:
        raise NotFound(f"no rule {rule_id} in {namespace}") from None


@audited("rule.delete")
async def delete_rule(ctx: AdminContext, namespace: str, rule_id: int) -> None:
    require(ctx, namespace, "edit")
    await load(ctx, namespace)
    if not await ctx.call(ctx.store.delete_rule, namespace, rule_id):
        raise NotFound(f"no rule {rule_id} in {namespace}")


async def _existing(ctx: AdminContext, namespace: str, rule_id: int) -> MarkRule:
    for rule in await list_rules(ctx, namespace):
        if rule.rule_id == rule_id:
            return rule
    raise NotFound(f"no rule {rule_id} in {namespace}")
