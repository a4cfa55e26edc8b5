"""Data handling: everything stored about a workspace as one JSON document, and deletion with a signed receipt.

``export_workspace`` gathers what the account store holds about the workspace: its settings (the origin
without its secret: only whether one is set), plan limits and billing state, purge markers, marks (uploaded
images as base64), rules, members, API keys (metadata only: never a secret or a digest), the keys' daily use
and the audit log. Rendered outputs are not exported: they are derived from the owner's own originals.

``delete_workspace_with_receipt`` counts those records, deletes the workspace with all of them, purges every
stored output of the workspace from the result store (memory tiers drop them as the workspace leaves their
tenancy caches; see ``Workspace.purged_after``) and returns a ``Receipt`` signed with the gateway's key
(``gateway.admin.receipts``). Users remain: a person may belong to other workspaces.

Both are audited; the deletion's row belongs to no workspace, since the workspace's own rows go with it.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from gateway.accounts.audit import MAX_PAGE, AuditEntry
from gateway.accounts.store import AccountStore
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.keys import KeyView
from gateway.admin.marks import MarkView
from gateway.admin.members import members_of
from gateway.admin.receipts import Receipt, receipt_is_genuine, sign_receipt
from gateway.admin.workspaces import WorkspaceView, checked_namespace, load, remove

EXPORT_KIND = "imgate.workspace-export"
EXPORT_VERSION = 1
_ALL_DAYS = (date.min, date.max)


def _audit_rows(store: AccountStore, namespace: str) -> list[AuditEntry]:
    rows: list[AuditEntry] = []
    cursor: str | None = None
    while True:
        page = store.list_audit(namespace, MAX_PAGE, cursor)
        rows.extend(page.entries)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _gathered(store: AccountStore, namespace: str) -> dict[str, Any]:
    """Everything but the workspace record, read in one worker thread."""
    keys = store.list_api_keys(namespace)
    return {
        "marks": store.list_marks(namespace),
        "rules": store.list_rules(namespace),
        "members": members_of(store, namespace),
        "keys": keys,
        "key_use": store.list_key_use(namespace, *_ALL_DAYS),
        "audit": _audit_rows(store, namespace),
    }


@audited("workspace.export")
async def export_workspace(ctx: AdminContext, namespace: str) -> dict[str, Any]:
    """One JSON-ready document with everything stored about the workspace."""
    workspace = await load(ctx, namespace)
    found = await ctx.call(_gathered, ctx.store, workspace.namespace)
    prefixes = {key.key_id: key.prefix for key in found["keys"]}
    marks = []
    for preset in found["marks"]:
        shown = MarkView.of(preset).as_dict()
        shown["image_data_base64"] = base64.b64encode(preset.image_data).decode("ascii") if preset.image_data else ""
        marks.append(shown)
    return {
        "kind": EXPORT_KIND,
        "version": EXPORT_VERSION,
        "exported_at": time.time(),
        "workspace": WorkspaceView.of(workspace).as_dict(),
        "purges": [{"prefix": marker.prefix, "at": marker.at} for marker in workspace.purges],
        "billing": dataclasses.asdict(workspace.billing),
        "marks": marks,
        "rules": [
            {
                "rule_id": rule.rule_id,
                "position": rule.position,
                "preset": rule.preset,
                "key_patterns": list(rule.key_patterns),
                "src_host_patterns": list(rule.src_host_patterns),
            }
            for rule in found["rules"]
        ],
        "members": [member.as_dict() for member in found["members"]],
        "keys": [KeyView.of(key).as_dict() for key in found["keys"]],
        "key_usage": [
            {"prefix": prefixes[use.key_id], "day": use.day.isoformat(), "requests": use.requests}
            for use in found["key_use"]
            if use.key_id in prefixes
        ],
        "audit": [
            {
                "at": row.at,
                "actor": row.actor,
                "operation": row.operation,
                "status": row.status,
                "latency_ms": row.latency_ms,
            }
            for row in found["audit"]
        ],
    }


@audited("workspace.delete", detached=True)
async def delete_workspace_with_receipt(ctx: AdminContext, namespace: str) -> Receipt:
    """Delete the workspace with all its data and stored outputs; a receipt signed with the gateway's key."""
    workspace = await load(ctx, checked_namespace(namespace))
    found = await ctx.call(_gathered, ctx.store, workspace.namespace)
    counts = {
        "marks": len(found["marks"]),
        "rules": len(found["rules"]),
        "members": len(found["members"]),
        "api_keys": len(found["keys"]),
        "key_usage_days": len(found["key_use"]),
        "audit_rows": len(found["audit"]),
    }
    counts["stored_outputs"] = await remove(ctx, workspace.namespace)
    return sign_receipt(ctx.secrets, workspace.namespace, time.time(), counts)


async def verify_receipt(ctx: AdminContext, receipt: Mapping[str, object]) -> bool:
    """True only for a receipt this gateway signed (same ``secret_key``), unchanged in every field."""
    return receipt_is_genuine(ctx.secrets, receipt)
