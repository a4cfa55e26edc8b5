"""Auto-apply rules through the admin layer: compiled as the request path compiles them, kept in order."""

from __future__ import annotations

import pytest

from gateway import admin
from gateway.admin import AdminContext, Invalid, MarkChanges, NotFound

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(ctx: AdminContext) -> str:
    await admin.create_workspace(ctx, "acme")
    await admin.create_mark(ctx, "acme", "logo", MarkChanges(text="ACME"))
    return "acme"


async def test_rules_are_kept_in_the_order_they_are_tried(ctx: AdminContext, acme: str) -> None:
    first = await admin.add_rule(ctx, acme, "logo", ("premium/**",))
    second = await admin.add_rule(ctx, acme, "logo", (), ("*.stock.example",), position=1)
    assert [r.rule_id for r in await admin.list_rules(ctx, acme)] == [second.rule_id, first.rule_id]
    moved = await admin.move_rule(ctx, acme, first.rule_id, 1)
    assert moved.position == 1
    assert [r.rule_id for r in await admin.list_rules(ctx, acme)] == [first.rule_id, second.rule_id]
    await admin.delete_rule(ctx, acme, first.rule_id)
    assert [(r.rule_id, r.position) for r in await admin.list_rules(ctx, acme)] == [(second.rule_id, 1)]


@pytest.mark.parametrize(
    ("preset", "keys", "hosts", "position"),
    [
        ("ghost", ("*",), (), None),
        ("logo", (), (), None),
        ("logo", ("/abs/**",), (), None),
        ("logo", ("",), (), None),
        ("logo", (), ("exa mple.com",), None),
        ("logo", (), ("*.*.example",), None),
        ("logo", ("*",), (), 0),
    ],
)
async def test_a_rule_the_request_path_could_not_use_is_refused(
    ctx: AdminContext, acme: str, preset: str, keys: tuple[str, ...], hosts: tuple[str, ...], position: int | None
) -> None:
    with pytest.raises(Invalid):
        await admin.add_rule(ctx, acme, preset, keys, hosts, position)
    assert await admin.list_rules(ctx, acme) == []


async def test_rules_of_another_workspace_are_not_found(ctx: AdminContext, acme: str) -> None:
    await admin.create_workspace(ctx, "other")
    rule = await admin.add_rule(ctx, acme, "logo", ("*",))
    with pytest.raises(NotFound):
        await admin.move_rule(ctx, "other", rule.rule_id, 1)
    with pytest.raises(NotFound):
        await admin.delete_rule(ctx, "other", rule.rule_id)
    with pytest.raises(NotFound):
        await admin.list_rules(ctx, "ghost")
    assert len(await admin.list_rules(ctx, acme)) == 1
