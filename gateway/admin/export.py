"""Data handling: everything stored about a workspace as one JSON document, and deletion with a signed receipt.

``export_workspace`` gathers what is stored about the workspace: its settings (the origin without its secret:
only whether one is set), plan limits and billing state, purge markers, URL shaping (presets, default
parameters, allowed widths), URL signing (mode and key ids, never a secret), marks (uploaded images as base64),
rules, members, API keys (metadata only: never a secret or a digest), the keys' daily use, custom domains, the
usage counters of every stored day (from the usage store the settings choose: the account store or Redis),
capture jobs (their request and outcome: never their sealed ``auth`` secrets, the worker's lease or where the
result is kept; of the webhook secret only whether one is set) and the audit log. Rendered outputs and capture
results are not exported: they are derived from the owner's own originals and pages. Sign-in codes and
sessions belong to users, not to a workspace, so they are not part of it.

``delete_workspace_with_receipt`` counts those records, deletes the workspace with all of them (the usage
counters in Redis first: a Redis that is away stops the deletion before anything is gone), purges every
stored output of the workspace from the result store (memory tiers drop them as the workspace leaves their
tenancy caches; see ``Workspace.purged_after``) and returns a ``Receipt`` signed with the gateway's key
(``gateway.admin.receipts``). Users remain: a person may belong to other workspaces.

Both are audited; the deletion's row belongs to no workspace, since the workspace's own rows go with it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from gateway.accounts.audit import MAX_PAGE, AuditEntry
from gateway.accounts.capture_jobs import CaptureJob
from gateway.accounts.models import Workspace
from gateway.accounts.store import AccountStore
from gateway.accounts.usage import COUNTERS, DailyUsage, UsageStore
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.domains import DomainView
from gateway.admin.keys import KeyView
from gateway.admin.marks import MarkView
from gateway.admin.members import members_of
from gateway.admin.presets import UrlShapingView
from gateway.admin.receipts import Receipt, receipt_is_genuine, sign_receipt
from gateway.admin.roles import require
from gateway.admin.signing import SigningKeyView, SigningView
from gateway.admin.workspaces import WorkspaceView, checked_namespace, load, remove
from gateway.usage.stores import usage_store

EXPORT_KIND = "imgate.workspace-export"
EXPORT_VERSION = 1
_ALL_DAYS = (date.min, date.max)
_JOBS_PAGE = 500


def _audit_rows(store: AccountStore, namespace: str) -> list[AuditEntry]:
    rows: list[AuditEntry] = []
    cursor: str | None = None
    while True:
        page = store.list_audit(namespace, MAX_PAGE, cursor)
        rows.extend(page.entries)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _capture_jobs(store: AccountStore, namespace: str) -> list[CaptureJob]:
    jobs: list[CaptureJob] = []
    while True:
        before = (jobs[-1].created_at, jobs[-1].job_id) if jobs else None
        page = store.capture_jobs.list_jobs(namespace, limit=_JOBS_PAGE, before=before)
        jobs.extend(page)
        if len(page) < _JOBS_PAGE:
            return jobs


def _gathered(store: AccountStore, usage: UsageStore, namespace: str) -> dict[str, Any]:
    """Everything but the workspace record, read in one worker thread."""
    keys = store.list_api_keys(namespace)
    return {
        "marks": store.list_marks(namespace),
        "rules": store.list_rules(namespace),
        "members": members_of(store, namespace),
        "keys": keys,
        "key_use": store.list_key_use(namespace, *_ALL_DAYS),
        "audit": _audit_rows(store, namespace),
        "domains": store.domains.in_workspace(namespace),
        "usage": usage.all_days(namespace),
        "capture_jobs": _capture_jobs(store, namespace),
        "webhook_secret_set": store.capture_jobs.webhook_secret(namespace) is not None,
    }


def _usage_day(usage: DailyUsage) -> dict[str, Any]:
    shown: dict[str, Any] = {"day": usage.day.isoformat()}
    shown.update({name: getattr(usage, name) for name in COUNTERS})
    shown["errors"] = dict(usage.errors)
    return shown


def _capture_job(job: CaptureJob) -> dict[str, Any]:
    """A job's request and outcome; never its sealed secrets, its lease or the result's storage key."""
    try:
        spec: Any = json.loads(job.spec)
    except ValueError:
        spec = job.spec
    result = job.result
    return {
        "job_id": job.job_id,
        "url": job.url,
        "spec": spec,
        "status": job.status,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error_code": job.error_code,
        "error_message": job.error_message,
        "result": None
        if result is None
        else {
            "format": result.format,
            "content_type": result.content_type,
            "bytes": result.bytes,
            "width": result.width,
            "height": result.height,
            "expires_at": result.expires_at,
        },
        "downloaded_at": job.downloaded_at,
        "result_deleted_at": job.result_deleted_at,
    }


def _signing(workspace: Workspace) -> dict[str, Any]:
    keys = tuple(SigningKeyView(key.key_id, key.scheme, key.created_at) for key in workspace.signing_keys)
    return SigningView(workspace.signing, keys).as_dict()


@audited("workspace.export")
async def export_workspace(ctx: AdminContext, namespace: str) -> dict[str, Any]:
    """One JSON-ready document with everything stored about the workspace."""
    require(ctx, namespace, "export")
    workspace = await load(ctx, namespace)
    found = await ctx.call(_gathered, ctx.store, usage_store(ctx.settings, ctx.store), workspace.namespace)
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
        "custom_domain_hsts": workspace.custom_domain_hsts,
        "url_shaping": UrlShapingView.of(workspace).as_dict(),
        "signing": _signing(workspace),
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
        "domains": [DomainView.of(domain, ctx.settings.cname_target).as_dict() for domain in found["domains"]],
        "key_usage": [
            {"prefix": prefixes[use.key_id], "day": use.day.isoformat(), "requests": use.requests}
            for use in found["key_use"]
            if use.key_id in prefixes
        ],
        "usage": [_usage_day(day) for day in found["usage"]],
        "capture_jobs": [_capture_job(job) for job in found["capture_jobs"]],
        "capture_webhook_secret_set": found["webhook_secret_set"],
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
    require(ctx, namespace, "delete")
    workspace = await load(ctx, checked_namespace(namespace))
    usage = usage_store(ctx.settings, ctx.store)
    found = await ctx.call(_gathered, ctx.store, usage, workspace.namespace)
    counts = {
        "marks": len(found["marks"]),
        "rules": len(found["rules"]),
        "members": len(found["members"]),
        "api_keys": len(found["keys"]),
        "key_usage_days": len(found["key_use"]),
        "audit_rows": len(found["audit"]),
        "domains": len(found["domains"]),
        "usage_days": len(found["usage"]),
        "capture_jobs": len(found["capture_jobs"]),
    }
    if usage is not ctx.store.usage:
        # Counters kept outside the account store (Redis) do not go with the workspace's rows: delete them
        # first, so a store that is away stops the deletion before anything is gone.
        await ctx.call(usage.delete_workspace, workspace.namespace)
    counts["stored_outputs"] = await remove(ctx, workspace.namespace)
    return sign_receipt(ctx.tokens, workspace.namespace, time.time(), counts)


async def verify_receipt(ctx: AdminContext, receipt: Mapping[str, object]) -> bool:
    """True only for a receipt this gateway signed (same ``secret_key``), unchanged in every field."""
    return receipt_is_genuine(ctx.tokens, receipt)
