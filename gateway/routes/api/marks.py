"""Mark presets: list, create, show, change, delete.

The body's values are handed to the admin layer in the URL's own vocabulary (``alpha`` 70, ``scale`` 20 percent)
and parsed by the URL's parsers there, so a preset the API accepts is one the request path can stamp. An image
is given as a key in the workspace's origin (read once now, so a missing key is refused here) or uploaded as
base64 in the body, at most ``MAX_UPLOAD`` bytes decoded (413 over it).
"""

from __future__ import annotations

import base64
import binascii

from gateway import admin
from gateway.admin import MarkChanges, MarkView
from gateway.admin.marks import MAX_UPLOAD
from gateway.errors import PayloadTooLarge, ValidationError
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import MarkCreate, MarkList, MarkOut, MarkPatch
from gateway.routes.api.workspaces import WORKSPACE

MARKS = f"{WORKSPACE}/marks"
MARK = f"{MARKS}/{{name}}"
_TAG = "marks"


def mark_out(view: MarkView) -> MarkOut:
    shown = view.as_dict()
    # Percent, as it is given: what is read can be sent back unchanged.
    shown["scale"] = None if view.scale is None else round(view.scale * 100, 6)
    return MarkOut.model_validate(shown)


def _uploaded(text: str) -> bytes:
    # Checked before decoding: base64 is 4 characters per 3 bytes.
    if len(text) > (MAX_UPLOAD + 2) // 3 * 4:
        raise PayloadTooLarge(f"image_base64: uploaded mark images are limited to {MAX_UPLOAD // 1024} KiB")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("image_base64: must be standard base64") from None
    if len(data) > MAX_UPLOAD:
        raise PayloadTooLarge(f"image_base64: uploaded mark images are limited to {MAX_UPLOAD // 1024} KiB")
    return data


def mark_changes(body: MarkCreate | MarkPatch) -> MarkChanges:
    return MarkChanges(
        image_key=body.image_key,
        image_data=None if body.image_base64 is None else _uploaded(body.image_base64),
        text=body.text,
        font=body.font,
        font_size=_number(body.font_size),
        color=body.color,
        background=body.background,
        align=body.align,
        alpha=_number(body.alpha),
        scale=_number(body.scale),
        pad=_number(body.pad),
        w=_number(body.w),
        h=_number(body.h),
        tile=body.tile,
    )


def _number(value: float | None) -> str | None:
    """In the URL's form: 20.0 -> "20" (its parsers take integers as digits), 20.5 -> "20.5"."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def list_marks(call: ApiCall) -> MarkList:
    return MarkList(marks=[mark_out(view) for view in await admin.list_marks(call.ctx, call.namespace)])


async def create_mark(call: ApiCall) -> MarkOut:
    body = call.body(MarkCreate)
    return mark_out(await admin.create_mark(call.ctx, call.namespace, body.name, mark_changes(body)))


async def get_mark(call: ApiCall) -> MarkOut:
    return mark_out(await admin.show_mark(call.ctx, call.namespace, call.params["name"]))


async def update_mark(call: ApiCall) -> MarkOut:
    changes = mark_changes(call.body(MarkPatch))
    return mark_out(await admin.update_mark(call.ctx, call.namespace, call.params["name"], changes))


async def delete_mark(call: ApiCall) -> None:
    await admin.delete_mark(call.ctx, call.namespace, call.params["name"])


_MISSING = {404: "No mark of that name."}
ENDPOINTS = (
    Endpoint("GET", MARKS, "List mark presets", list_marks, _TAG, response=MarkList),
    Endpoint(
        "POST",
        MARKS,
        "Create a mark preset",
        create_mark,
        _TAG,
        scope="write",
        body=MarkCreate,
        response=MarkOut,
        status=201,
        errors={409: "A mark of that name exists already."},
    ),
    Endpoint("GET", MARK, "Show a mark preset", get_mark, _TAG, response=MarkOut, errors=_MISSING),
    Endpoint(
        "PATCH",
        MARK,
        "Change a mark preset",
        update_mark,
        _TAG,
        scope="write",
        body=MarkPatch,
        response=MarkOut,
        errors=_MISSING,
    ),
    Endpoint(
        "DELETE",
        MARK,
        "Delete a mark preset",
        delete_mark,
        _TAG,
        scope="write",
        errors={**_MISSING, 409: "An auto-apply rule still names the preset: delete or change the rule first."},
    ),
)
