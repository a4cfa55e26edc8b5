"""Capture domains and their switches through the admin layer; the retention in force after a downgrade."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway import admin
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.admin import AdminContext, Invalid, WorkspaceChanges
from gateway.admin.workspaces import CaptureDomain, load

pytestmark = pytest.mark.anyio
DOMAINS = ("www.example.com", "*.example.org")


async def acme(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(allowed_capture_domains=DOMAINS))


async def test_new_capture_domains_are_enabled(ctx: AdminContext) -> None:
    await acme(ctx)
    view = await admin.show_workspace(ctx, "acme")
    assert view.capture_domains == (CaptureDomain("www.example.com", True), CaptureDomain("*.example.org", True))
    assert view.as_dict()["capture_domains"] == [
        {"pattern": "www.example.com", "enabled": True},
        {"pattern": "*.example.org", "enabled": True},
    ]


async def test_switches_turn_one_domain_off_and_on_in_its_stored_spelling(ctx: AdminContext) -> None:
    await acme(ctx)
    off = await admin.update_workspace(
        ctx, "acme", WorkspaceChanges(switch_capture_domains=(("*.EXAMPLE.org.", False),))
    )
    assert [d.enabled for d in off.capture_domains] == [True, False]
    assert (await load(ctx, "acme")).disabled_capture_domains == ("*.example.org",)
    assert off.allowed_capture_domains == DOMAINS  # the pattern stays allowed: what is rendered stays served
    on = await admin.update_workspace(ctx, "acme", WorkspaceChanges(switch_capture_domains=(("*.example.org", True),)))
    assert [d.enabled for d in on.capture_domains] == [True, True]
    assert (await load(ctx, "acme")).disabled_capture_domains == ()


async def test_the_disabled_set_can_be_replaced_whole(ctx: AdminContext) -> None:
    await acme(ctx)
    view = await admin.update_workspace(
        ctx,
        "acme",
        WorkspaceChanges(allowed_capture_domains=(*DOMAINS, "shop.example.net"), disabled_capture_domains=DOMAINS),
    )
    assert [(d.pattern, d.enabled) for d in view.capture_domains] == [
        ("www.example.com", False),
        ("*.example.org", False),
        ("shop.example.net", True),
    ]
    cleared = await admin.update_workspace(ctx, "acme", WorkspaceChanges(disabled_capture_domains=()))
    assert all(d.enabled for d in cleared.capture_domains)


async def test_a_removed_pattern_loses_its_switch_and_comes_back_enabled(ctx: AdminContext) -> None:
    await acme(ctx)
    await admin.update_workspace(ctx, "acme", WorkspaceChanges(switch_capture_domains=(("www.example.com", False),)))
    # Other changes keep the switch.
    kept = await admin.update_workspace(ctx, "acme", WorkspaceChanges(allowed_origins=("https://a.example",)))
    assert (await load(ctx, "acme")).disabled_capture_domains == ("www.example.com",)
    assert [d.enabled for d in kept.capture_domains] == [False, True]
    await admin.update_workspace(ctx, "acme", WorkspaceChanges(allowed_capture_domains=("*.example.org",)))
    assert (await load(ctx, "acme")).disabled_capture_domains == ()
    back = await admin.update_workspace(ctx, "acme", WorkspaceChanges(allowed_capture_domains=DOMAINS))
    assert all(d.enabled for d in back.capture_domains)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (WorkspaceChanges(switch_capture_domains=(("shop.example.net", False),)), "capture_domains", "not one of"),
        (WorkspaceChanges(switch_capture_domains=(("*.com", False),)), "capture_domains", "two labels"),
        (WorkspaceChanges(disabled_capture_domains=("example.org",)), "disabled_capture_domains", "not one of"),
        # Another port is another pattern, not another spelling of one.
        (WorkspaceChanges(disabled_capture_domains=("www.example.com:8443",)), "disabled_capture_domains", "not one"),
    ],
)
async def test_a_switch_names_one_of_the_capture_domains(
    ctx: AdminContext, changes: WorkspaceChanges, field: str, words: str
) -> None:
    await acme(ctx)
    before = await load(ctx, "acme")
    with pytest.raises(Invalid) as refused:
        await admin.update_workspace(ctx, "acme", changes)
    assert refused.value.field == field and words in refused.value.message
    assert await load(ctx, "acme") == before


async def test_switches_survive_the_sqlite_store(ctx: AdminContext, tmp_path: Path) -> None:
    store = SqliteAccountStore(tmp_path / "accounts.sqlite3")
    try:
        sqlite_ctx = dataclasses.replace(ctx, store=store)
        await acme(sqlite_ctx)
        await admin.update_workspace(
            sqlite_ctx, "acme", WorkspaceChanges(switch_capture_domains=(("www.example.com", False),))
        )
    finally:
        store.close()
    reopened = SqliteAccountStore(tmp_path / "accounts.sqlite3")
    try:
        stored = reopened.get_workspace("acme")
        assert stored is not None and stored.disabled_capture_domains == ("www.example.com",)
    finally:
        reopened.close()


async def test_the_view_shows_the_retention_in_force_after_a_downgrade(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(plan="business", capture_retention=30 * 86400))
    view = await admin.show_workspace(ctx, "acme")
    assert (view.capture_retention, view.capture_retention_in_force) == (30 * 86400, 30 * 86400)
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="free"))
    assert (view.capture_retention, view.capture_retention_in_force) == (30 * 86400, 86400)
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(plan="pro"))
    assert view.capture_retention_in_force == 7 * 86400
