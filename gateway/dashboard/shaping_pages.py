"""A workspace's URL shaping: named presets (``?preset=name``), default parameters, allowed widths with their
rounding, and the imgix migration mode (strict or lenient).

A thin adapter over ``gateway.admin.presets`` and ``gateway.admin.workspaces``: parameters are checked by the
request path's own parser when saved (the admin layer does it), so a refusal shows the same stable code and
message the API answers with, and the form keeps what was typed, to correct it. Changes answer 303 back to the
page with a fixed notice name; a preset's name (a-z, 0-9, ``-``, ``_``) is the URL's fragment, so the browser
scrolls to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.responses import Response

from gateway import admin
from gateway.accounts.models import IMGIX_COMPAT_MODES
from gateway.accounts.presets import MAX_PARAMS_LENGTH, MAX_WIDTHS, WIDTH_ROUNDING, TransformPreset
from gateway.admin import AdminError, Invalid, WorkspaceChanges
from gateway.admin.presets import delete_preset, put_preset, set_allowed_widths, set_default_params, show_url_shaping
from gateway.dashboard.web import PREFIX, Call, admin_error, see_other
from gateway.dashboard.workspace_pages import ns_of, workspace_page

NOTICES = {
    "preset": "Preset saved. URLs naming it render with its parameters from now on.",
    "preset-deleted": "Preset deleted. URLs still naming it answer 400 VALIDATION_ERROR.",
    "defaults": "Default parameters saved. Every URL of the workspace gets them, under its own.",
    "widths": "Allowed widths saved.",
    "strict": "imgix mode: strict. An imgix parameter imgate lacks is refused with 400.",
    "lenient": "imgix mode: lenient. imgix parameters imgate lacks are left out and named in X-Imgate-Ignored.",
}
EXAMPLE_KEY = "products/shoe.jpg"
_WIDTH_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class PresetForm:
    """What the add/edit form shows: a stored preset to edit, or what was typed and refused."""

    name: str = ""
    params: str = ""
    locked: bool = False
    editing: bool = False


@dataclass(frozen=True, slots=True)
class Typed:
    """Values a refused form keeps (``None``: show the stored one)."""

    defaults: str | None = None
    widths: str | None = None
    rounding: str | None = None


def _here(namespace: str, notice: str, fragment: str = "") -> Response:
    return see_other(f"{PREFIX}/w/{namespace}/shaping?notice={notice}{'#' + fragment if fragment else ''}")


def readable(params: str) -> list[tuple[str, str]]:
    """Stored parameters as people read them (values decoded), one pair each: shown, never re-parsed."""
    return parse_qsl(params, keep_blank_values=True)


def parse_widths(text: str) -> tuple[int, ...]:
    """``"320, 640 960"`` as widths; ``Invalid`` naming the field for anything that is no whole number."""
    items = [item for item in _WIDTH_SEPARATORS.split(text.strip()) if item]
    if len(items) > MAX_WIDTHS:
        raise Invalid(f"allowed_widths: at most {MAX_WIDTHS} widths", "allowed_widths")
    if any(not (item.isascii() and item.isdigit()) or len(item) > 5 for item in items):
        raise Invalid("allowed_widths: whole numbers of pixels, separated by commas", "allowed_widths")
    return tuple(int(item) for item in items)


async def shaping(
    call: Call,
    *,
    error: Exception | None = None,
    status: int = 200,
    form: PresetForm | None = None,
    typed: Typed | None = None,
) -> Response:
    namespace = ns_of(call)
    view = await show_url_shaping(call.ctx, namespace)
    workspace = await admin.show_workspace(call.ctx, namespace)
    if form is None:
        wanted = call.request.query_params.get("edit", "")
        stored: TransformPreset | None = next((p for p in view.presets if p.name == wanted), None)
        form = PresetForm(stored.name, stored.params, stored.locked, True) if stored else PresetForm()
    return workspace_page(
        call,
        "shaping.html",
        namespace,
        status,
        notice=NOTICES.get(call.request.query_params.get("notice", "")),
        error=error,
        shaping=view,
        readable={preset.name: readable(preset.params) for preset in view.presets},
        default_pairs=readable(view.default_params),
        form=form,
        typed=typed or Typed(),
        roundings=WIDTH_ROUNDING,
        compat=workspace.imgix_compat,
        compat_modes=IMGIX_COMPAT_MODES,
        example_key=EXAMPLE_KEY,
        max_params=MAX_PARAMS_LENGTH,
    )


async def save_preset(call: Call) -> Response:
    namespace = ns_of(call)
    name, params, locked = call.field("name").strip(), call.field("params").strip(), call.field("locked") == "on"
    try:
        preset = await put_preset(call.ctx, namespace, name, params, locked)
    except AdminError as exc:
        error = admin_error(exc)
        kept = PresetForm(name, params, locked, call.field("editing") == "1")
        return await shaping(call, error=error, status=error.status, form=kept)
    return _here(namespace, "preset", f"preset-{preset.name}")


async def remove_preset(call: Call) -> Response:
    namespace = ns_of(call)
    await delete_preset(call.ctx, namespace, call.field("name"))
    return _here(namespace, "preset-deleted")


async def save_defaults(call: Call) -> Response:
    namespace = ns_of(call)
    params = call.field("params").strip()
    try:
        await set_default_params(call.ctx, namespace, params)
    except AdminError as exc:
        error = admin_error(exc)
        return await shaping(call, error=error, status=error.status, typed=Typed(defaults=params))
    return _here(namespace, "defaults", "defaults")


async def save_widths(call: Call) -> Response:
    namespace = ns_of(call)
    text, rounding = call.field("widths"), call.field("rounding") or "up"
    try:
        if rounding not in WIDTH_ROUNDING:
            raise Invalid(f"rounding: must be one of {', '.join(WIDTH_ROUNDING)}", "rounding")
        await set_allowed_widths(call.ctx, namespace, parse_widths(text), rounding)
    except AdminError as exc:
        error = admin_error(exc)
        return await shaping(call, error=error, status=error.status, typed=Typed(widths=text, rounding=rounding))
    return _here(namespace, "widths", "widths")


async def switch_compat(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        view = await admin.update_workspace(call.ctx, namespace, WorkspaceChanges(imgix_compat=call.field("mode")))
    except AdminError as exc:
        error = admin_error(exc)
        return await shaping(call, error=error, status=error.status)
    return _here(namespace, view.imgix_compat, "imgix")
