"""Mark presets through the admin layer: saved only when the request path could stamp them."""

from __future__ import annotations

import pytest

from gateway import admin
from gateway.admin import AdminContext, Conflict, Invalid, MarkChanges, NotFound, WorkspaceChanges
from gateway.admin.marks import MAX_UPLOAD
from gateway.admin.origins import OriginChanges
from gateway.marks.presets import mark_spec
from tests.gateway.admin.conftest import png

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(ctx: AdminContext) -> str:
    await admin.create_workspace(
        ctx, "acme", WorkspaceChanges(origin=OriginChanges(kind="http", base_url="https://cdn.example.com/"))
    )
    return "acme"


async def test_a_text_mark_round_trips_in_the_url_vocabulary(ctx: AdminContext, acme: str) -> None:
    view = await admin.create_mark(
        ctx,
        acme,
        "credit",
        MarkChanges(text="© Acme", color="f00", font_size="28", align="left,top", alpha="70", scale="20", pad="0"),
    )
    assert (view.kind, view.text, view.color, view.font_size) == ("text", "© Acme", "ff0000", 28)
    assert (view.align, view.alpha, view.scale, view.pad) == ("top,left", 70, 0.2, 0)
    assert await admin.show_mark(ctx, acme, "credit") == view
    assert [m.name for m in await admin.list_marks(ctx, acme)] == ["credit"]
    with pytest.raises(Conflict):
        await admin.create_mark(ctx, acme, "credit", MarkChanges(text="again"))


async def test_an_image_key_is_read_from_the_origin_when_saved(ctx: AdminContext, acme: str) -> None:
    view = await admin.create_mark(ctx, acme, "logo", MarkChanges(image_key="marks/logo.png", w="100"))
    assert (view.kind, view.image_key, view.uploaded_bytes, view.w) == ("image", "marks/logo.png", 0, 100)
    with pytest.raises(Invalid) as missing:
        await admin.create_mark(ctx, acme, "ghost", MarkChanges(image_key="marks/ghost.png"))
    assert missing.value.field == "image_key" and "does not exist" in missing.value.message
    with pytest.raises(Invalid) as not_an_image:
        await admin.create_mark(ctx, acme, "notes", MarkChanges(image_key="notes.txt"))
    assert not_an_image.value.field == "image_key"
    with pytest.raises(Invalid):
        await admin.update_mark(ctx, acme, "logo", MarkChanges(image_key="marks/ghost.png"))
    assert [m.name for m in await admin.list_marks(ctx, acme)] == ["logo"]
    assert (await admin.show_mark(ctx, acme, "logo")).image_key == "marks/logo.png"


async def test_an_image_key_needs_an_origin(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "bare")
    with pytest.raises(Invalid) as refused:
        await admin.create_mark(ctx, "bare", "logo", MarkChanges(image_key="marks/logo.png"))
    assert refused.value.field == "image_key"


async def test_uploads_are_checked_and_limited(ctx: AdminContext, acme: str) -> None:
    view = await admin.create_mark(ctx, acme, "stamp", MarkChanges(image_data=png(), tile=True))
    assert view.uploaded_bytes == len(png()) and view.tile
    with pytest.raises(Invalid) as junk:
        await admin.create_mark(ctx, acme, "junk", MarkChanges(image_data=b"GIF89a not really"))
    assert junk.value.field == "image_data"
    with pytest.raises(Invalid) as large:
        await admin.create_mark(ctx, acme, "huge", MarkChanges(image_data=b"\0" * (MAX_UPLOAD + 1)))
    assert large.value.field == "image_data"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("alpha", "300"),
        ("alpha", "-1"),
        ("scale", "0"),
        ("scale", "101"),
        ("pad", "99999"),
        ("w", "0"),
        ("h", "9000"),
        ("color", "nothex"),
        ("background", "12345"),
        ("font", "Sans, Serif"),
        ("font_size", "0"),
        ("align", "up"),
    ],
)
async def test_every_field_is_validated_when_saved(ctx: AdminContext, acme: str, field: str, value: str) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_mark(ctx, acme, "bad", MarkChanges(text="x", **{field: value}))  # type: ignore[arg-type]
    assert refused.value.field == field and refused.value.message.startswith(f"{field}:")
    assert await admin.list_marks(ctx, acme) == []


async def test_a_mark_needs_exactly_one_content(ctx: AdminContext, acme: str) -> None:
    with pytest.raises(Invalid):
        await admin.create_mark(ctx, acme, "none", MarkChanges(alpha="50"))
    with pytest.raises(Invalid):
        await admin.create_mark(ctx, acme, "both", MarkChanges(text="x", image_key="marks/logo.png"))
    with pytest.raises(Invalid):
        await admin.create_mark(ctx, acme, "Bad Name", MarkChanges(text="x"))


async def test_update_switches_content_and_keeps_placement(ctx: AdminContext, acme: str) -> None:
    await admin.create_mark(ctx, acme, "logo", MarkChanges(text="ACME", alpha="40", align="top,left"))
    view = await admin.update_mark(ctx, acme, "logo", MarkChanges(image_key="marks/logo.png"))
    assert (view.kind, view.text, view.alpha, view.align) == ("image", "", 40, "top,left")
    with pytest.raises(NotFound):
        await admin.update_mark(ctx, acme, "ghost", MarkChanges(alpha="1"))


async def test_the_stored_preset_builds_the_spec_a_request_would(ctx: AdminContext, acme: str) -> None:
    await admin.create_mark(ctx, acme, "credit", MarkChanges(text="ACME", alpha="40", w="120", tile=True))
    (preset,) = await ctx.call(ctx.store.list_marks, acme)
    spec = mark_spec(preset, None)
    assert (spec.alpha, spec.w, spec.tile, spec.align) == (40, 120, True, ("bottom", "right"))


async def test_a_mark_named_by_a_rule_cannot_be_deleted(ctx: AdminContext, acme: str) -> None:
    await admin.create_mark(ctx, acme, "logo", MarkChanges(text="ACME"))
    rule = await admin.add_rule(ctx, acme, "logo", ("premium/**",))
    with pytest.raises(Conflict) as in_use:
        await admin.delete_mark(ctx, acme, "logo")
    assert "rule" in in_use.value.message
    await admin.delete_rule(ctx, acme, rule.rule_id)
    await admin.delete_mark(ctx, acme, "logo")
    with pytest.raises(NotFound):
        await admin.delete_mark(ctx, acme, "logo")
