"""The workspace's audit log, newest first, a page at a time, optionally narrowed by actor and operation.

Rows hold the time, the actor (``key:<prefix>``, a user's email, ``cli``), the operation (a route template or
an admin operation's name), the status and the latency: never a body, URL, query string, image key or secret.
The cursor names the last row of a page, so rows written meanwhile never shift the next page; with filters,
the next page is asked for with the same filters.
"""

from __future__ import annotations

from gateway.admin.audit import list_audit
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import AuditEntryOut, AuditPageOut, AuditQuery
from gateway.routes.api.workspaces import WORKSPACE


async def audit_log(call: ApiCall) -> AuditPageOut:
    query = call.query(AuditQuery)
    # An empty filter (``?actor=``, as a form with a blank field sends it) filters nothing.
    page = await list_audit(
        call.ctx,
        call.namespace,
        query.limit,
        query.cursor,
        actor=query.actor or None,
        operation=query.operation or None,
    )
    entries = [
        AuditEntryOut(
            at=entry.at,
            actor=entry.actor,
            operation=entry.operation,
            status=entry.status,
            latency_ms=entry.latency_ms,
        )
        for entry in page.entries
    ]
    return AuditPageOut(entries=entries, next_cursor=page.next_cursor)


ENDPOINTS = (
    Endpoint(
        "GET",
        f"{WORKSPACE}/audit",
        "The audit log, newest first",
        audit_log,
        "audit",
        query=AuditQuery,
        response=AuditPageOut,
        description="Every management API call and every admin operation on the workspace; `actor` and "
        "`operation` keep only the rows whose actor or operation contains the text given.",
    ),
)
