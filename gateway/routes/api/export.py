"""Data handling: the whole workspace as one JSON document, and deleting it with a signed receipt.

The export holds everything stored about the workspace (settings without secrets, marks with uploaded images
as base64, rules, members, key metadata, usage, audit); rendered outputs are not in it, they are derived from
the owner's own originals. Deleting removes the workspace with all of that, purges its stored outputs, and
answers a receipt signed with the gateway's key. Exporting needs a write key; deleting is an owner's or the
operator's (``gateway.admin.roles``), so every key is refused, and the route stays to say so in the reference.
"""

from __future__ import annotations

from gateway.admin.export import delete_workspace_with_receipt, export_workspace
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import ExportOut, ReceiptOut
from gateway.routes.api.workspaces import WORKSPACE, customer_workspace

_TAG = "workspace"


async def export(call: ApiCall) -> ExportOut:
    document = await export_workspace(call.ctx, call.namespace)
    document["workspace"] = customer_workspace(document["workspace"])
    return ExportOut(document)


async def delete_workspace(call: ApiCall) -> ReceiptOut:
    receipt = await delete_workspace_with_receipt(call.ctx, call.namespace)
    return ReceiptOut.model_validate(receipt.as_dict())


ENDPOINTS = (
    Endpoint(
        "GET",
        f"{WORKSPACE}/export",
        "Everything stored about the workspace, as one document",
        export,
        _TAG,
        # It holds members' addresses and the audit log: as much as an owner may read (roles: "export").
        scope="write",
        response=ExportOut,
    ),
    Endpoint(
        "DELETE",
        WORKSPACE,
        "Delete the workspace and all its data; answers a signed receipt",
        delete_workspace,
        _TAG,
        scope="write",
        response=ReceiptOut,
        description=(
            "Irreversible, and an owner's: API keys are refused with 403 FORBIDDEN (a leaked key must not destroy "
            "the workspace). An owner deletes it in the dashboard, the operator with `imgate workspace delete`; "
            "both answer the same signed receipt."
        ),
        removes_workspace=True,
    ),
)
