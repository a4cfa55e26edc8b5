"""Marks (watermark presets) and their auto-apply rules.

Mark values arrive as text in the URL vocabulary (``align = bottom,right``, ``alpha = 70``) and the admin layer
parses them with the URL's own parsers, so the page refuses exactly what a request would. An empty field
leaves a setting as it is. The preview is the real gateway's output: an ``<img>`` of a key of the workspace's
own origin with ``?mark=`` the preset, served by the request path like any image.

    GET  /_/dashboard/w/{ns}/marks                  presets, rules, preview
    POST /_/dashboard/w/{ns}/marks                  create a text mark, or an image mark (uploaded, or a key in the
                                                    origin; the upload's type and size are checked by the admin layer)
    POST /_/dashboard/w/{ns}/marks/update           placement of one preset
    POST /_/dashboard/w/{ns}/marks/delete           delete one (refused while a rule uses it)
    POST /_/dashboard/w/{ns}/rules                  add a rule; rules/move, rules/delete
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.responses import Response

from gateway import admin
from gateway.admin import AdminError, MarkChanges
from gateway.dashboard.web import PREFIX, Call, admin_error, see_other
from gateway.dashboard.workspace_pages import ns_of, workspace_page

ALIGNS = tuple(f"{v},{h}" for v in ("top", "middle", "bottom") for h in ("left", "center", "right"))
_PLACEMENT = ("align", "alpha", "scale", "pad", "w", "h")


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.replace(",", "\n").splitlines() if line.strip())


async def marks(call: Call, *, error: Exception | None = None, status: int = 200) -> Response:
    namespace = ns_of(call)
    presets = await admin.list_marks(call.ctx, namespace)
    rules = await admin.list_rules(call.ctx, namespace)
    sample = call.request.query_params.get("sample", "").strip().lstrip("/")
    previews: list[dict[str, str]] = []
    if sample:
        base = f"/{namespace}/{quote(sample)}"
        previews = [
            {"name": preset.name, "src": f"{base}?{urlencode({'w': 480, 'mark': preset.name})}"} for preset in presets
        ]
    return workspace_page(
        call,
        "marks.html",
        namespace,
        status,
        presets=presets,
        rules=rules,
        aligns=ALIGNS,
        sample=sample,
        previews=previews,
        error=error,
    )


def _changes(form: dict[str, str], files: dict[str, bytes], *, content: bool) -> MarkChanges:
    values: dict[str, Any] = {name: form[name].strip() for name in _PLACEMENT if form.get(name, "").strip()}
    if content:
        if form.get("kind") == "upload":
            values["image_data"] = files.get("image_file", b"")
        elif form.get("kind") == "image":
            values["image_key"] = form.get("image_key", "").strip()
        else:
            values["text"] = form.get("text", "")
            for name in ("font_size", "color", "background"):
                if form.get(name, "").strip():
                    values[name] = form[name].strip()
    values["tile"] = form.get("tile") == "on"
    return MarkChanges(**values)


async def _attempt(call: Call, namespace: str, operation: Any) -> Response:
    try:
        await operation
    except AdminError as exc:
        error = admin_error(exc)
        return await marks(call, error=error, status=error.status)
    return see_other(f"{PREFIX}/w/{namespace}/marks")


async def create(call: Call) -> Response:
    namespace = ns_of(call)
    changes = _changes(call.form, call.files, content=True)
    return await _attempt(call, namespace, admin.create_mark(call.ctx, namespace, call.field("name").strip(), changes))


async def update(call: Call) -> Response:
    namespace = ns_of(call)
    changes = _changes(call.form, call.files, content=False)
    return await _attempt(call, namespace, admin.update_mark(call.ctx, namespace, call.field("name"), changes))


async def delete(call: Call) -> Response:
    namespace = ns_of(call)
    return await _attempt(call, namespace, admin.delete_mark(call.ctx, namespace, call.field("name")))


def _position(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


async def add_rule(call: Call) -> Response:
    namespace = ns_of(call)
    operation = admin.add_rule(
        call.ctx,
        namespace,
        call.field("preset"),
        _lines(call.field("key_patterns")),
        _lines(call.field("src_host_patterns")),
        _position(call.field("position")),
    )
    return await _attempt(call, namespace, operation)


async def move_rule(call: Call) -> Response:
    namespace = ns_of(call)
    rule_id, position = _position(call.field("rule_id")), _position(call.field("position"))
    if rule_id is None or position is None:
        error = admin_error(admin.Invalid("position: a whole number, 1 for first"))
        return await marks(call, error=error, status=error.status)
    return await _attempt(call, namespace, admin.move_rule(call.ctx, namespace, rule_id, position))


async def delete_rule(call: Call) -> Response:
    namespace = ns_of(call)
    rule_id = _position(call.field("rule_id"))
    if rule_id is None:
        raise admin_error(admin.NotFound("no such rule"))
    return await _attempt(call, namespace, admin.delete_rule(call.ctx, namespace, rule_id))
