"""A workspace's members: list, add (the user is created on first sight), change role, remove.

Members are named by email address in the path (``/members/alice%40example.com``); the audit log records the
route template, never the address. The last owner can be neither removed nor demoted (409 CONFLICT).
"""

from __future__ import annotations

from gateway.admin.members import MemberView, add_member, change_role, list_members, remove_member
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import MemberAdd, MemberList, MemberOut, RoleChange
from gateway.routes.api.workspaces import WORKSPACE

MEMBERS = f"{WORKSPACE}/members"
MEMBER = f"{MEMBERS}/{{email}}"
_TAG = "members"
_MISSING = {404: "No member with that email address."}
_LAST_OWNER = {409: "That member is the workspace's last owner: make another member an owner first."}


def member_out(view: MemberView) -> MemberOut:
    return MemberOut.model_validate(view.as_dict())


async def list_workspace_members(call: ApiCall) -> MemberList:
    return MemberList(members=[member_out(view) for view in await list_members(call.ctx, call.namespace)])


async def add_workspace_member(call: ApiCall) -> MemberOut:
    body = call.body(MemberAdd)
    return member_out(await add_member(call.ctx, call.namespace, body.email, body.role))


async def change_member_role(call: ApiCall) -> MemberOut:
    role = call.body(RoleChange).role
    return member_out(await change_role(call.ctx, call.namespace, call.params["email"], role))


async def remove_workspace_member(call: ApiCall) -> None:
    await remove_member(call.ctx, call.namespace, call.params["email"])


# Members and roles are an owner's, never a key's (``gateway.admin.roles``): a leaked key must not make someone
# an owner who outlives the key's revocation.
_OWNERS_ONLY = (
    "API keys are refused with 403 FORBIDDEN: an owner manages members in the dashboard, the operator with "
    "`imgate member`."
)

ENDPOINTS = (
    Endpoint("GET", MEMBERS, "List members", list_workspace_members, _TAG, response=MemberList),
    Endpoint(
        "POST",
        MEMBERS,
        "Add a member",
        add_workspace_member,
        _TAG,
        scope="write",
        description=_OWNERS_ONLY,
        body=MemberAdd,
        response=MemberOut,
        status=201,
        errors={409: "That user is a member already."},
    ),
    Endpoint(
        "PATCH",
        MEMBER,
        "Change a member's role",
        change_member_role,
        _TAG,
        scope="write",
        description=_OWNERS_ONLY,
        body=RoleChange,
        response=MemberOut,
        errors={**_MISSING, **_LAST_OWNER},
    ),
    Endpoint(
        "DELETE",
        MEMBER,
        "Remove a member",
        remove_workspace_member,
        _TAG,
        scope="write",
        description=_OWNERS_ONLY,
        errors={**_MISSING, **_LAST_OWNER},
    ),
)
