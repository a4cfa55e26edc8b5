"""Mark presets: create, update, show, list and delete, each checked the way a request would use it.

A preset is saved only when the request path could stamp it: it is turned into a ``MarkSpec`` by the same
builder (``gateway.marks.presets.mark_spec``) and decoded or rendered once. An image kept in the workspace's
origin is read through the workspace's own ``Source`` when the preset is saved, so a key that does not exist
there is refused now rather than answered ``502`` on every request that asks for the mark.

Values arrive as text in the URL vocabulary (``align="top,left"``, ``alpha="70"``, ``scale="20"`` percent) and
are parsed by the URL's own parsers; errors name the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gateway.accounts.models import MarkPreset, Workspace
from gateway.accounts.store import WorkspaceMissing
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Invalid, NotFound
from gateway.admin.roles import require
from gateway.admin.workspaces import load
from gateway.errors import GatewayError
from gateway.errors import NotFound as SourceNotFound
from gateway.marks.presets import mark_spec
from transforms.errors import TransformError, UnsupportedImage
from transforms.marks import (
    parse_align,
    parse_alpha,
    parse_color,
    parse_font,
    parse_font_size,
    parse_pad,
    parse_scale,
    parse_size,
    parse_text,
    prepare_mark,
)

MAX_UPLOAD = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MarkChanges:
    """What to set; ``None`` leaves a field as it is. At most one of image_key, image_data and text."""

    image_key: str | None = None  # a key in the workspace's origin
    image_data: bytes | None = field(default=None, repr=False)  # an uploaded image
    text: str | None = None
    font: str | None = None
    font_size: str | None = None
    color: str | None = None
    background: str | None = None  # "" = none
    align: str | None = None
    alpha: str | None = None
    scale: str | None = None  # percent of the output width
    pad: str | None = None
    w: str | None = None
    h: str | None = None
    tile: bool | None = None


@dataclass(frozen=True, slots=True)
class MarkView:
    """A preset as shown: the uploaded image's size, not its bytes. ``scale`` is a fraction (0.2 = 20 %)."""

    name: str
    kind: str
    image_key: str
    uploaded_bytes: int
    text: str
    font: str
    font_size: int
    color: str
    background: str
    align: str
    alpha: int
    scale: float | None
    pad: int
    w: int | None
    h: int | None
    tile: bool
    updated_at: float

    @classmethod
    def of(cls, preset: MarkPreset) -> MarkView:
        shown = {f.name: getattr(preset, f.name) for f in dataclasses.fields(cls) if f.name != "uploaded_bytes"}
        return cls(uploaded_bytes=len(preset.image_data), **shown)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _parsed(changes: MarkChanges) -> dict[str, Any]:
    content = [name for name in ("image_key", "image_data", "text") if getattr(changes, name) is not None]
    if len(content) > 1:
        raise Invalid(f"give only one of image_key, image_data and text, not {' and '.join(content)}", content[1])
    updates: dict[str, Any] = {}
    if changes.image_key is not None:
        updates.update(kind="image", image_key=changes.image_key, image_data=b"", text="")
    elif changes.image_data is not None:
        if len(changes.image_data) > MAX_UPLOAD:
            raise Invalid(f"image_data: uploaded mark images are limited to {MAX_UPLOAD // 1024} KiB", "image_data")
        updates.update(kind="image", image_data=changes.image_data, image_key="", text="")
    elif changes.text is not None:
        updates.update(kind="text", text=parse_text(changes.text, "text"), image_key="", image_data=b"")
    parsers = {
        "font": parse_font,
        "font_size": parse_font_size,
        "color": parse_color,
        "alpha": parse_alpha,
        "scale": parse_scale,
        "pad": parse_pad,
        "w": parse_size,
        "h": parse_size,
    }
    for name, parse in parsers.items():
        value = getattr(changes, name)
        if value is not None:
            updates[name] = parse(value, name)
    if changes.background is not None:
        updates["background"] = parse_color(changes.background, "background") if changes.background else ""
    if changes.align is not None:
        updates["align"] = ",".join(parse_align(changes.align, "align"))
    if changes.tile is not None:
        updates["tile"] = changes.tile
    return updates


async def _image(ctx: AdminContext, workspace: Workspace, preset: MarkPreset) -> bytes | None:
    """The preset's image bytes, read as the request path reads them."""
    if preset.kind != "image":
        return None
    if preset.image_data:
        return preset.image_data
    source = ctx.sources(workspace)
    if source is None:
        raise Invalid("image_key: the workspace has no origin to read the mark image from", "image_key")
    try:
        original = await source.fetch(preset.image_key)
    except SourceNotFound:
        raise Invalid(
            f"image_key: {preset.image_key!r} does not exist in the workspace's origin", "image_key"
        ) from None
    except GatewayError as exc:
        raise Invalid(f"image_key: could not be read from the workspace's origin: {exc.message}", "image_key") from None
    finally:
        await source.aclose()
    return original.data


def _stamp_once(preset: MarkPreset, image: bytes | None) -> None:
    prepare_mark(mark_spec(preset, image))


async def _checked(ctx: AdminContext, workspace: Workspace, preset: MarkPreset) -> MarkPreset:
    image = await _image(ctx, workspace, preset)
    try:
        # Decoding an image or rendering text is CPU work for libvips: a worker thread, never the event loop.
        await ctx.call(_stamp_once, preset, image)
    except UnsupportedImage as exc:
        field = "image_key" if preset.image_key else "image_data"
        raise Invalid(f"{field}: {exc.message}", field) from None
    except TransformError as exc:
        raise Invalid.from_transform(exc) from None
    return preset


@contextmanager
def _values_checked() -> Iterator[None]:
    """A preset built from the caller's values: a refusal by the URL parsers or by the record is ``Invalid``."""
    try:
        yield
    except TransformError as exc:
        raise Invalid.from_transform(exc) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None


async def _store(ctx: AdminContext, preset: MarkPreset) -> MarkView:
    try:
        return MarkView.of(await ctx.call(ctx.store.put_mark, preset))
    except WorkspaceMissing:
        raise NotFound(f"no workspace {preset.namespace}") from None


async def _find(ctx: AdminContext, namespace: str, name: str) -> MarkPreset | None:
    return next((m for m in await ctx.call(ctx.store.list_marks, namespace) if m.name == name), None)


async def list_marks(ctx: AdminContext, namespace: str) -> list[MarkView]:
    await load(ctx, namespace)
    return [MarkView.of(mark) for mark in await ctx.call(ctx.store.list_marks, namespace)]


async def show_mark(ctx: AdminContext, namespace: str, name: str) -> MarkView:
    await load(ctx, namespace)
    preset = await _find(ctx, namespace, name)
    if preset is None:
        raise NotFound(f"no mark {name} in {namespace}")
    return MarkView.of(preset)


@audited("mark.create")
async def create_mark(ctx: AdminContext, namespace: str, name: str, changes: MarkChanges) -> MarkView:
    require(ctx, namespace, "edit")
    workspace = await load(ctx, namespace)
    if await _find(ctx, namespace, name) is not None:
        raise Conflict(f"mark {name} already exists in {namespace}")
    if changes.image_key is None and changes.image_data is None and changes.text is None:
        raise Invalid("a mark needs an image_key, image_data (an upload) or text")
    with _values_checked():
        preset = MarkPreset(namespace, name, **_parsed(changes))
    return await _store(ctx, await _checked(ctx, workspace, preset))


@audited("mark.update")
async def update_mark(ctx: AdminContext, namespace: str, name: str, changes: MarkChanges) -> MarkView:
    require(ctx, namespace, "edit")
    workspace = await load(ctx, namespace)
    current = await _find(ctx, namespace, name)
    if current is None:
        raise NotFound(f"no mark {name} in {namespace}")
    with _values_checked():
        preset = dataclasses.replace(current, **_parsed(changes))
    return await _store(ctx, await _checked(ctx, workspace, preset))


@audited("mark.delete")
async def delete_mark(ctx: AdminContext, namespace: str, name: str) -> None:
    """Refused (``Conflict``) while an auto-apply rule names the preset."""
    require(ctx, namespace, "edit")
    await load(ctx, namespace)
    try:
        deleted = await ctx.call(ctx.store.delete_mark, namespace, name)
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    if not deleted:
        raise NotFound(f"no mark {name} in {namespace}")
