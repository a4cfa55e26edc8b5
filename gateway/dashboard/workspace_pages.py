"""Workspaces and what belongs to them: create and switch, overview, members, API keys, audit, purge, delete.

Every handler checks that the signed-in user is a member of the workspace in the path (404 otherwise, the
same answer as for a workspace that does not exist) and calls the admin layer acting as ``user:<email>`` with
their roles; what only an owner may do is refused there (``gateway.admin.roles``) and shown as a 403 page.
Changes answer 303 to the page they were made on, with a fixed notice name in the query (never user text).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from starlette.responses import Response

from gateway import admin
from gateway.accounts.users import ROLES
from gateway.admin import AdminError, Invalid
from gateway.admin.signin import create_owned_workspace
from gateway.dashboard.web import PREFIX, Call, admin_error, public_origin, see_other

NOTICES = {
    "created": "Workspace created. Its URLs work at once; src= sources stay off until you allow them in Settings.",
    "invited": "Invitation saved: they sign in with a code sent to that address.",
    "role": "Role changed.",
    "removed": "Member removed.",
    "revoked": "Key revoked. The API refuses it from the next request on.",
    "purged": "Purged.",
    "origin": "Origin saved.",
    "access": "Allowlists saved.",
    "retention": "Capture retention saved.",
    "capture": "Capture domain switched. Captures rendered already are still served.",
}
AUDIT_PAGE = 50


def notice(call: Call) -> str | None:
    return NOTICES.get(call.request.query_params.get("notice", ""))


def ns_of(call: Call) -> str:
    return call.member_of(call.request.path_params["ns"])


def workspace_page(call: Call, template: str, namespace: str, status: int = 200, **values: Any) -> Response:
    return call.render(template, status=status, current=namespace, notice=values.pop("notice", notice(call)), **values)


# -- workspaces -------------------------------------------------------------------------------------------------


async def workspaces(call: Call) -> Response:
    return call.render("workspaces.html", current=None, notice=notice(call), namespace="", error=None)


async def create_workspace(call: Call) -> Response:
    namespace = call.field("namespace").strip()
    first = not call.me.memberships
    try:
        await create_owned_workspace(call.ctx, namespace, call.me.user)
    except AdminError as exc:
        template = "welcome.html" if first else "workspaces.html"
        error = admin_error(exc)
        return call.render(template, status=error.status, current=None, notice=None, namespace=namespace, error=error)
    return see_other(f"{PREFIX}/w/{namespace}?notice=created")


async def overview(call: Call) -> Response:
    namespace = ns_of(call)
    view = await admin.show_workspace(call.ctx, namespace)
    members = await admin.list_members(call.ctx, namespace)
    keys = [key for key in await admin.list_keys(call.ctx, namespace) if key.revoked_at is None]
    base = public_origin(call.request, call.runtime)
    return workspace_page(
        call, "overview.html", namespace, ws=view, members=members, keys=keys, example=f"{base}/{namespace}/"
    )


# -- members ----------------------------------------------------------------------------------------------------


async def members(call: Call, *, error: Exception | None = None, status: int = 200) -> Response:
    namespace = ns_of(call)
    listed = await admin.list_members(call.ctx, namespace)
    is_owner = call.me.role_in(namespace) == "owner"
    return workspace_page(
        call, "members.html", namespace, status, members=listed, roles=ROLES, is_owner=is_owner, error=error
    )


async def invite(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        await admin.add_member(call.ctx, namespace, call.field("email"), call.field("role") or "member")
    except AdminError as exc:
        error = admin_error(exc)
        return await members(call, error=error, status=error.status)
    return see_other(f"{PREFIX}/w/{namespace}/members?notice=invited")


async def change_role(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        await admin.change_role(call.ctx, namespace, call.field("email"), call.field("role"))
    except AdminError as exc:
        error = admin_error(exc)
        return await members(call, error=error, status=error.status)
    return see_other(f"{PREFIX}/w/{namespace}/members?notice=role")


async def remove_member(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        await admin.remove_member(call.ctx, namespace, call.field("email"))
    except AdminError as exc:
        error = admin_error(exc)
        return await members(call, error=error, status=error.status)
    return see_other(f"{PREFIX}/w/{namespace}/members?notice=removed")


# -- API keys ---------------------------------------------------------------------------------------------------


async def keys(call: Call, *, created: admin.CreatedKey | None = None, error: Exception | None = None) -> Response:
    namespace = ns_of(call)
    listed = await admin.list_keys(call.ctx, namespace)
    status = 200 if error is None else getattr(error, "status", 400)
    return workspace_page(call, "keys.html", namespace, status, keys=listed, created=created, error=error)


async def create_key(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        created = await admin.create_key(call.ctx, namespace, call.field("name"), call.field("scope") or "read")
    except AdminError as exc:
        return await keys(call, error=admin_error(exc))
    # Answered here, not redirected: the secret is in this one page and nowhere else, ever.
    return await keys(call, created=created)


async def confirm_revoke(call: Call) -> Response:
    namespace = ns_of(call)
    prefix = call.request.query_params.get("prefix", "")
    key = next((k for k in await admin.list_keys(call.ctx, namespace) if k.prefix == prefix), None)
    if key is None:
        raise admin_error(admin.NotFound("no such key"))
    return workspace_page(call, "key_revoke.html", namespace, key=key)


async def revoke_key(call: Call) -> Response:
    namespace = ns_of(call)
    await admin.revoke_key(call.ctx, namespace, call.field("prefix"))
    return see_other(f"{PREFIX}/w/{namespace}/keys?notice=revoked")


# -- audit ------------------------------------------------------------------------------------------------------


async def audit(call: Call) -> Response:
    """Newest first, filtered by actor and operation (substrings, matched by the store)."""
    namespace = ns_of(call)
    query = call.request.query_params
    actor, operation = query.get("actor", "").strip(), query.get("operation", "").strip()
    page = await admin.list_audit(
        call.ctx,
        namespace,
        limit=AUDIT_PAGE,
        cursor=query.get("cursor") or None,
        actor=actor or None,
        operation=operation or None,
    )
    return workspace_page(
        call,
        "audit.html",
        namespace,
        rows=page.entries,
        actor=actor,
        operation=operation,
        cursor=page.next_cursor,
    )


# -- purge and delete -------------------------------------------------------------------------------------------


async def danger(call: Call, *, error: Exception | None = None, purged: admin.PurgeResult | None = None) -> Response:
    namespace = ns_of(call)
    is_owner = call.me.role_in(namespace) == "owner"
    status = 200 if error is None else getattr(error, "status", 400)
    return workspace_page(call, "danger.html", namespace, status, is_owner=is_owner, error=error, purged=purged)


async def purge(call: Call) -> Response:
    namespace = ns_of(call)
    try:
        result = await admin.purge(call.ctx, namespace, call.field("prefix"))
    except AdminError as exc:
        return await danger(call, error=admin_error(exc))
    return await danger(call, purged=result)


async def delete(call: Call) -> Response:
    namespace = ns_of(call)
    if call.field("confirm") != namespace:
        error = admin_error(Invalid("type the workspace's namespace to confirm"))
        return await danger(call, error=error)
    receipt = await admin.delete_workspace_with_receipt(call.ctx, namespace)
    call.me.memberships = [m for m in call.me.memberships if m.namespace != namespace]
    shown = json.dumps(receipt.as_dict(), indent=2, sort_keys=True)
    return call.render("receipt.html", current=None, notice=None, receipt=dataclasses.asdict(receipt), shown=shown)
