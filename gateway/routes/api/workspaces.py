"""The workspace resource: its settings, its origin, and purges of its cached outputs.

``PATCH`` takes the ``revision`` the caller read: the change is refused with 409 CONFLICT when the workspace
changed since, instead of silently undoing someone else's change (the admin layer's compare-and-set). Without
one the change still cannot be lost half-way: the admin layer writes back exactly the record it read.

The plan and whether the workspace is active are not settable with an API key: billing and the operator
decide those. Nor is a local-folder origin: a folder on the gateway's own disk is the operator's to give.
"""

from __future__ import annotations

from typing import Any

from gateway import admin
from gateway.admin import OriginChanges, WorkspaceChanges, WorkspaceView
from gateway.routes.api.endpoint import PREFIX, ApiCall, Endpoint
from gateway.routes.api.models import OriginPatch, PurgeOut, PurgeRequest, WorkspaceOut, WorkspacePatch

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


async def update_workspace(call: ApiCall) -> WorkspaceOut:
    patch = call.body(WorkspacePatch)
    changes = WorkspaceChanges(
        allowed_origins=_tuple(patch.allowed_origins),
        allowed_sources=_tuple(patch.allowed_sources),
        allowed_capture_domains=_tuple(patch.allowed_capture_domains),
        ip_allowlist=_tuple(patch.ip_allowlist),
        capture_retention=patch.capture_retention,
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
        "Change allowlists, capture retention or the IP allowlist",
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
