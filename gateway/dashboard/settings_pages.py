"""A workspace's settings: origin (the bucket secret write-only, a "check" that diagnoses it), allowlists,
capture domains each with its switch, capture retention, and the plan with its limits (read-only: billing and
the operator decide those).

A local-folder origin is the operator's to give (a folder on the gateway's disk): it is shown, never offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from gateway import admin
from gateway.admin import AdminError, OriginChanges, WorkspaceChanges
from gateway.dashboard.web import PREFIX, Call, admin_error, see_other
from gateway.dashboard.workspace_pages import ns_of, workspace_page

ORIGIN_KINDS = ("none", "http", "s3", "r2")
_BUCKET_FIELDS = ("bucket", "prefix", "region", "endpoint", "addressing_style", "access_key_id")


async def settings(
    call: Call, *, error: Exception | None = None, check: admin.OriginCheck | None = None, status: int = 200
) -> Response:
    namespace = ns_of(call)
    view = await admin.show_workspace(call.ctx, namespace)
    return workspace_page(
        call,
        "settings.html",
        namespace,
        status,
        ws=view,
        kinds=ORIGIN_KINDS,
        error=error,
        check=check,
        retention_options=list(view.limits.get("capture_retention_options", [])),
    )


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.replace(",", "\n").splitlines() if line.strip())


def _origin_changes(form: dict[str, str], stored: Mapping[str, str]) -> OriginChanges:
    """The form as changes. It shows the stored values, so an emptied field clears one; an access key id left
    as it was is not sent again (a new one needs its secret, the stored one keeps the stored secret)."""
    kind = form.get("kind", "")
    values: dict[str, Any] = {"kind": kind}
    if kind == "http":
        values["base_url"] = form.get("base_url", "").strip()
    elif kind in ("s3", "r2"):
        same_kind = stored.get("kind") == kind
        for name in _BUCKET_FIELDS:
            text = form.get(name, "").strip()
            if name == "access_key_id" and same_kind and text == stored.get("access_key_id", ""):
                continue
            if text or same_kind:
                values[name] = text
        secret = form.get("secret_access_key", "")
        if secret:  # empty = keep the stored one; the page never shows it
            values["secret_access_key"] = secret
    return OriginChanges(**values)


async def _save(call: Call, changes: WorkspaceChanges, notice: str) -> Response:
    namespace = ns_of(call)
    revision = call.field("revision")
    try:
        await admin.update_workspace(
            call.ctx, namespace, changes, revision=int(revision) if revision.isdigit() else None
        )
    except AdminError as exc:
        error = admin_error(exc)
        return await settings(call, error=error, status=error.status)
    return see_other(f"{PREFIX}/w/{namespace}/settings?notice={notice}")


async def save_origin(call: Call) -> Response:
    if call.field("kind") not in ORIGIN_KINDS:
        error = admin_error(admin.Invalid(f"origin: choose one of {', '.join(ORIGIN_KINDS)}"))
        return await settings(call, error=error, status=error.status)
    view = await admin.show_workspace(call.ctx, ns_of(call))
    return await _save(call, WorkspaceChanges(origin=_origin_changes(call.form, view.origin)), "origin")


async def save_access(call: Call) -> Response:
    changes = WorkspaceChanges(
        allowed_origins=_lines(call.field("allowed_origins")),
        allowed_sources=_lines(call.field("allowed_sources")),
        allowed_capture_domains=_lines(call.field("allowed_capture_domains")),
    )
    return await _save(call, changes, "access")


async def switch_capture_domain(call: Call) -> Response:
    """Switch one capture domain on or off: off takes no new captures of its pages, and keeps what is rendered."""
    switch = ((call.field("pattern"), call.field("enabled") == "on"),)
    return await _save(call, WorkspaceChanges(switch_capture_domains=switch), "capture")


async def save_retention(call: Call) -> Response:
    text = call.field("capture_retention")
    if not text.isdigit():
        error = admin_error(admin.Invalid("capture_retention: a whole number of seconds"))
        return await settings(call, error=error, status=error.status)
    return await _save(call, WorkspaceChanges(capture_retention=int(text)), "retention")


async def check_origin(call: Call) -> Response:
    namespace = ns_of(call)
    result = await admin.check_origin(call.ctx, namespace, call.field("key").strip() or None)
    return await settings(call, check=result)
