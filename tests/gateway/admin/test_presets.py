"""Presets, default parameters and allowed widths through the admin layer: checked, canonical, audited."""

from __future__ import annotations

import pytest

from gateway import admin
from gateway.admin import AdminContext, Invalid, NotFound
from gateway.admin.presets import (
    canonical_params,
    delete_preset,
    put_preset,
    set_allowed_widths,
    set_default_params,
)

pytestmark = pytest.mark.anyio


async def test_presets_through_the_admin_layer(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    saved = await put_preset(ctx, "acme", "card", "w=400&fit=crop", locked=True)
    assert (saved.params, saved.locked) == (canonical_params("w=400&fit=crop"), True)
    with pytest.raises(Invalid):
        await put_preset(ctx, "acme", "Bad Name", "w=1")
    shaping = await set_allowed_widths(ctx, "acme", (640, 320, 320))
    assert shaping.allowed_widths == (320, 640)
    with pytest.raises(Invalid):
        await set_allowed_widths(ctx, "acme", (0,))
    defaults = await set_default_params(ctx, "acme", "auto=format")
    assert defaults.default_params == "auto=format" and [p.name for p in defaults.presets] == ["card"]
    await delete_preset(ctx, "acme", "card")
    with pytest.raises(NotFound):
        await delete_preset(ctx, "acme", "card")
