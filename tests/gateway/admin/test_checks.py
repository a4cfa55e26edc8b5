"""``check_origin`` and ``seed_demo`` through the admin layer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway import admin
from gateway.accounts.models import Workspace
from gateway.admin import AdminContext, OriginChanges, WorkspaceChanges
from gateway.admin.demo import DEMO_ROOT

pytestmark = pytest.mark.anyio


async def test_check_reads_one_key_through_the_workspace_source(ctx: AdminContext, folder: Path) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges(origin=OriginChanges(kind="local", root=str(folder))))
    ok = await admin.check_origin(ctx, "acme", "marks/logo.png")
    assert ok.ok and "marks/logo.png" in ok.message
    missing = await admin.check_origin(ctx, "acme", "nope.png")
    assert not missing.ok and missing.message.startswith("NOT_FOUND")
    no_key = await admin.check_origin(ctx, "acme")
    assert not no_key.ok and "key" in no_key.message


async def test_check_says_when_there_is_no_origin(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "bare")
    result = await admin.check_origin(ctx, "bare", "a.jpg")
    assert not result.ok and "no origin" in result.message


async def test_check_of_a_bucket_with_unusable_settings_says_so(ctx: AdminContext) -> None:
    # Stored directly: the admin layer would have refused this bucket name.
    await ctx.call(ctx.store.create_workspace, Workspace("broken", origin_kind="s3", origin={"bucket": "-"}))
    result = await admin.check_origin(ctx, "broken")
    assert not result.ok and "bucket" in result.message


async def test_demo_seeds_then_repairs_the_demo_workspace(ctx: AdminContext, folder: Path) -> None:
    seed = await admin.seed_demo(ctx)
    assert seed.workspace.origin == {"kind": "local", "root": str(DEMO_ROOT)}
    assert seed.examples and all(e.url.startswith("http://127.0.0.1:8080/demo/") for e in seed.examples)
    assert seed.health_url == "http://127.0.0.1:8080/_/health"
    assert (await admin.seed_demo(ctx)).workspace.revision == seed.workspace.revision  # nothing to change
    await admin.update_workspace(
        ctx, "demo", WorkspaceChanges(origin=OriginChanges(kind="local", root=str(folder)), active=False)
    )
    repaired = await admin.seed_demo(
        dataclasses.replace(ctx, settings=ctx.settings.replace(public_url="https://img.example.com/"))
    )
    assert repaired.workspace.active and repaired.workspace.origin["root"] == str(DEMO_ROOT)
    assert repaired.examples[0].url.startswith("https://img.example.com/demo/")
