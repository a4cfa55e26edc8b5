"""The workspace resource: its settings, its origin, and purges of its cached outputs.

``PATCH`` takes the ``revision`` the caller read: the change is refused with 409 CONFLICT when the workspace
changed since, instead of silently undoing someone else's change (the admin layer's compare-and-set). Without
one the change still cannot be lost half-way: the admin layer writes back exactly the record it read.

Capture domains are shown, and may be given, as ``capture_domains`` (each ``{pattern, enabled}``); the older
``allowed_capture_domains`` (patterns only, switches kept) still works, but not together with it.

The plan and whether the workspace is active are not settable with an API key: billing and the operator
decide those. Nor is a local-folder origin: a folder on the gateway's own disk is the operator's to give.
"""

from __future__ import annotations

from typing import Any

from gateway import admin
from gateway.admin import OriginChanges, WorkspaceChanges, WorkspaceView
from gateway.errors import ValidationError
from gateway.routes.api.endpoint import PREFIX, ApiCall, Endpoint
from gateway.routes.api.models import (
    CaptureDomainIn,
    OriginPatch,
    PurgeOut,
    PurgeRequest,
    WorkspaceOut,
    WorkspacePatch,
)

WORKSPACE = f"{PREFIX}/workspaces/{{ns}}"
_TAG = "workspace"
_STALE = {409: "The workspace changed since `revision` was read: read it again and retry."}


def customer_workspace(shown: dict[str, Any]) -> dict[str, Any]:
    """A ``WorkspaceView.as_dict()`` as an API caller may see it, wherever the API shows a workspace."""
    if shown["origin"].get("kind") == "local":
        # A folder on the gateway's own disk: the operator's layout, not the customer's business.
        return {**shown, "origin": {"kind": "local"}}
    return shown


def workspace_out(view: WorkspaceView) -> WorkspaceOut:
    return WorkspaceOut.model_validate(customer_workspace(view.as_dict()))


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


async def get_workspace(call: ApiCall) -> WorkspaceOut:
    return workspace_out(await admin.show_workspace(call.ctx, call.namespace))


def _capture_domains(patch: WorkspacePatch) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The allowed and the disabled capture domains a patch gives (None: unchanged)."""
    domains: list[CaptureDomainIn] | None = patch.capture_domains
    if domains is None:
        return _tuple(patch.allowed_capture_domains), None
    if patch.allowed_capture_domains is not None:
        raise ValidationError("body.capture_domains: give either capture_domains or allowed_capture_domains")
    return tuple(d.pattern for d in domains), tuple(d.pattern for d in domains if not d.enabled)


async def update_workspace(call: ApiCall) -> WorkspaceOut:
    patch = call.body(WorkspacePatch)
    allowed_capture_domains, disabled_capture_domains = _capture_domains(patch)
    changes = WorkspaceChanges(
        allowed_origins=_tuple(patch.allowed_origins),
        allowed_sources=_tuple(patch.allowed_sources),
        allowed_capture_domains=allowed_capture_domains,
        disabled_capture_domains=disabled_capture_domains,
        ip_allowlist=_tuple(patch.ip_allowlist),
        capture_retention=patch.capture_retention,
        imgix_compat=patch.imgix_compat,
        keep_copyright=patch.keep_copyright,
        fallback_image=patch.fallback_image,
        capture_jobs_allow_http=patch.capture_jobs_allow_http,
    )
    return workspace_out(await admin.update_workspace(call.ctx, call.namespace, changes, revision=patch.revision))


async def update_origin(call: ApiCall) -> WorkspaceOut:
    patch = call.body(OriginPatch)
    given = patch.model_dump(exclude={"revision"}, exclude_none=True)
    changes = WorkspaceChanges(origin=OriginChanges(**given))
    return workspace_out(await admin.update_workspace(call.ctx, call.namespace, changes, revision=patch.revision))


async def purge(call: ApiCall) -> PurgeOut:
    result = await admin.purge(call.ctx, call.namespace, call.body(PurgeRequest).prefix)
    return PurgeOut(prefix=result.prefix, removed=result.removed, at=result.at)


ENDPOINTS = (
    Endpoint("GET", WORKSPACE, "The workspace's settings", get_workspace, _TAG, response=WorkspaceOut),
    Endpoint(
        "PATCH",
        WORKSPACE,
        "Change allowlists, capture domains and their switches, capture retention or the IP allowlist",
        update_workspace,
        _TAG,
        scope="write",
        body=WorkspacePatch,
        response=WorkspaceOut,
        description="Patterns are compiled as the request path compiles them: one it could not use is a 400 naming it.",
        errors=_STALE,
    ),
    Endpoint(
        "PATCH",
        f"{WORKSPACE}/origin",
        "Change the origin the workspace's images are read from",
        update_origin,
        _TAG,
        scope="write",
        body=OriginPatch,
        response=WorkspaceOut,
        description="The secret access key is write-only: the answer says only whether one is set.",
        errors=_STALE,
    ),
    Endpoint(
        "POST",
        f"{WORKSPACE}/purge",
        "Purge cached outputs, all or by source-key prefix",
        purge,
        _TAG,
        scope="write",
        body=PurgeRequest,
        response=PurgeOut,
        description="Stored outputs are deleted at once; every node's memory tier drops the rest within seconds.",
    ),
)
