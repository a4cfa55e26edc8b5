"""Workspaces: create, update, show, list and delete, validated as the request path validates.

Every change is read -> ``dataclasses.replace`` -> write back the record that was read: the account store
refuses the write when the workspace changed in between (another admin, another node, a mark edit), and the
caller gets ``Conflict`` instead of silently undoing someone's change. A caller that showed a form may also
pass the ``revision`` the form was built from, so a change based on a stale page is refused the same way.

Allowlists are compiled with ``gateway.policy.WorkspacePolicy`` exactly as the tenancy cache compiles them,
so a pattern the gateway could not use is refused here, where its owner can fix it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.accounts.models import Workspace, validate_namespace
from gateway.accounts.store import WorkspaceConflict, WorkspaceExists, WorkspaceMissing
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Invalid, NotFound
from gateway.admin.origins import OriginChanges, origin_view, resolve_origin
from gateway.cache.keys import key_prefix
from gateway.policy import InvalidPattern, WorkspacePolicy


@dataclass(frozen=True, slots=True)
class WorkspaceChanges:
    """What to change; ``None`` leaves a setting as it is."""

    origin: OriginChanges | None = None
    allowed_origins: tuple[str, ...] | None = None
    allowed_sources: tuple[str, ...] | None = None
    allowed_capture_domains: tuple[str, ...] | None = None
    capture_retention: int | None = None
    plan: str | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceView:
    """A workspace as an operator sees it: never a secret, only whether one is set."""

    namespace: str
    active: bool
    origin: Mapping[str, str]  # "kind" and the origin's non-secret settings
    origin_secret_set: bool
    allowed_origins: tuple[str, ...]
    allowed_sources: tuple[str, ...]
    allowed_capture_domains: tuple[str, ...]
    capture_retention: int
    plan: str
    created_at: float
    revision: int

    @classmethod
    def of(cls, workspace: Workspace) -> WorkspaceView:
        return cls(
            namespace=workspace.namespace,
            active=workspace.active,
            origin=origin_view(workspace),
            origin_secret_set=bool(workspace.origin_secret_sealed),
            allowed_origins=workspace.allowed_origins,
            allowed_sources=workspace.allowed_sources,
            allowed_capture_domains=workspace.allowed_capture_domains,
            capture_retention=workspace.capture_retention,
            plan=workspace.plan,
            created_at=workspace.created_at,
            revision=workspace.revision,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        shown = dataclasses.asdict(self)
        shown["origin"] = dict(self.origin)
        for name in ("allowed_origins", "allowed_sources", "allowed_capture_domains"):
            shown[name] = list(shown[name])
        return shown


def checked_namespace(namespace: str) -> str:
    try:
        return validate_namespace(namespace)
    except ValueError as exc:
        raise Invalid(str(exc), "namespace") from None


async def load(ctx: AdminContext, namespace: str) -> Workspace:
    """The stored record, or ``NotFound`` (``Invalid`` for a name no workspace can have)."""
    workspace = await ctx.call(ctx.store.get_workspace, checked_namespace(namespace))
    if workspace is None:
        raise NotFound(f"no workspace {namespace}")
    return workspace


async def save(ctx: AdminContext, workspace: Workspace) -> Workspace:
    """Write back a record read with ``load`` and changed with ``dataclasses.replace``."""
    try:
        return await ctx.call(ctx.store.update_workspace, workspace)
    except WorkspaceConflict as exc:
        raise Conflict(str(exc)) from None
    except WorkspaceMissing:
        raise NotFound(f"no workspace {workspace.namespace}") from None


def _changed(workspace: Workspace, changes: WorkspaceChanges, ctx: AdminContext) -> Workspace:
    updates: dict[str, Any] = {}
    if changes.origin is not None:
        origin = resolve_origin(workspace, changes.origin, ctx.secrets)
        updates.update(origin_kind=origin.kind, origin=origin.origin, origin_secret_sealed=origin.secret_sealed)
    for name in (
        "allowed_origins",
        "allowed_sources",
        "allowed_capture_domains",
        "capture_retention",
        "plan",
        "active",
    ):
        value = getattr(changes, name)
        if value is not None:
            updates[name] = tuple(value) if name.startswith("allowed_") else value
    try:
        updated = dataclasses.replace(workspace, **updates)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    try:
        WorkspacePolicy.compile(updated.allowed_origins, updated.allowed_sources, updated.allowed_capture_domains)
    except InvalidPattern as exc:
        raise Invalid(str(exc)) from None
    return updated


async def list_workspaces(ctx: AdminContext) -> list[WorkspaceView]:
    return [WorkspaceView.of(ws) for ws in await ctx.call(ctx.store.list_workspaces)]


async def show_workspace(ctx: AdminContext, namespace: str) -> WorkspaceView:
    return WorkspaceView.of(await load(ctx, namespace))


async def create_workspace(ctx: AdminContext, namespace: str, changes: WorkspaceChanges | None = None) -> WorkspaceView:
    """A new workspace (permissive allowlists, no origin, unless ``changes`` say otherwise)."""
    workspace = _changed(Workspace(namespace=checked_namespace(namespace)), changes or WorkspaceChanges(), ctx)
    try:
        stored = await ctx.call(ctx.store.create_workspace, workspace)
    except WorkspaceExists:
        raise Conflict(f"workspace {namespace} already exists") from None
    return WorkspaceView.of(stored)


async def update_workspace(
    ctx: AdminContext, namespace: str, changes: WorkspaceChanges, *, revision: int | None = None
) -> WorkspaceView:
    """Apply ``changes``; with ``revision``, only if the workspace is still at that revision."""
    current = await load(ctx, namespace)
    if revision is not None and revision != current.revision:
        raise Conflict(
            f"workspace {namespace} was changed meanwhile: the change is based on revision {revision}, "
            f"the stored revision is {current.revision}; read it again and retry"
        )
    return WorkspaceView.of(await save(ctx, _changed(current, changes, ctx)))


async def delete_workspace(ctx: AdminContext, namespace: str) -> int:
    """Delete the workspace, its marks and rules, and its stored outputs; returns how many outputs went."""
    if not await ctx.call(ctx.store.delete_workspace, checked_namespace(namespace)):
        raise NotFound(f"no workspace {namespace}")
    return await ctx.results.purge(key_prefix(namespace, ""))
