"""Workspaces: create, update, show, list and delete, validated as the request path validates.

Every change is read -> ``dataclasses.replace`` -> write back the record that was read: the account store
refuses the write when the workspace changed in between (another admin, another node, a mark edit), and the
caller gets ``Conflict`` instead of silently undoing someone's change. A caller that showed a form may also
pass the ``revision`` the form was built from, so a change based on a stale page is refused the same way.

Allowlists are compiled with ``gateway.policy.WorkspacePolicy`` exactly as the tenancy cache compiles them,
so a pattern the gateway could not use is refused here, where its owner can fix it.

The IP allowlist (networks the management API accepts the workspace's clients from) can be set only on a plan
with ``ip_allowlisting``; it can always be cleared. A list stays in force when the plan later loses the
feature (a downgrade, a cancelled subscription): access is never widened behind the owner's back.

Capture domains can each be switched off (``disabled_capture_domains``, or a pattern's switch in
``switch_capture_domains``): no new capture of its pages is taken, and what is rendered already is still
served (``gateway.policy.captures``). A disabled domain is one of the allowed patterns, named in its stored
spelling; one removed from the allowed list is no longer disabled, and comes back enabled if it is added again.

``capture_retention`` is refused unless the workspace's effective limits offer it
(``PlanLimits.allows_retention``). Only a value being set is checked: a workspace whose plan or overrides
stopped offering its stored retention keeps loading and can still change its other settings; the request
path caps it by the plan's longest option meanwhile (``Workspace.retention_in_force``).

Every change is audited (``gateway.admin.audit``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.accounts.models import Workspace, validate_namespace
from gateway.accounts.networks import address_allowed, check_allowlist
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.store import WorkspaceConflict, WorkspaceExists, WorkspaceMissing
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Invalid, NotFound
from gateway.admin.origins import OriginChanges, origin_view, resolve_origin
from gateway.admin.roles import require
from gateway.cache.keys import key_prefix
from gateway.policy import InvalidPattern, WorkspacePolicy, find_capture_domain


@dataclass(frozen=True, slots=True)
class WorkspaceChanges:
    """What to change; ``None`` leaves a setting as it is."""

    origin: OriginChanges | None = None
    allowed_origins: tuple[str, ...] | None = None
    allowed_sources: tuple[str, ...] | None = None
    allowed_capture_domains: tuple[str, ...] | None = None
    # Every disabled capture domain (each one of the allowed patterns): replaces the stored set.
    disabled_capture_domains: tuple[str, ...] | None = None
    # (pattern, enabled) pairs applied after the changes above: switch single capture domains on or off.
    switch_capture_domains: tuple[tuple[str, bool], ...] | None = None
    ip_allowlist: tuple[str, ...] | None = None
    capture_retention: int | None = None
    plan: str | None = None
    active: bool | None = None
    imgix_compat: str | None = None  # "strict" or "lenient"
    keep_copyright: bool | None = None
    fallback_image: str | None = None  # a key on the workspace's origin; "" turns the fallback off
    capture_jobs_allow_http: bool | None = None  # capture jobs may take http:// pages (within the gateway's)


@dataclass(frozen=True, slots=True)
class CaptureDomain:
    """One capture domain pattern and whether new captures of its pages are taken."""

    pattern: str
    enabled: bool


def capture_domains(workspace: Workspace) -> tuple[CaptureDomain, ...]:
    off = set(workspace.disabled_capture_domains)
    return tuple(CaptureDomain(pattern, pattern not in off) for pattern in workspace.allowed_capture_domains)


@dataclass(frozen=True, slots=True)
class WorkspaceView:
    """A workspace as an operator sees it: never a secret, only whether one is set."""

    namespace: str
    active: bool
    origin: Mapping[str, str]  # "kind" and the origin's non-secret settings
    origin_secret_set: bool
    allowed_origins: tuple[str, ...]
    allowed_sources: tuple[str, ...]
    allowed_capture_domains: tuple[str, ...]  # every capture domain, enabled or not
    capture_domains: tuple[CaptureDomain, ...]  # the same, each with its switch
    ip_allowlist: tuple[str, ...]
    capture_retention: int
    # What the request path keeps captures for: the retention, capped by the longest the plan offers now.
    capture_retention_in_force: int
    plan: str
    # What the workspace may do: the plan's limits with the overrides applied; and the overrides alone.
    limits: Mapping[str, Any]
    limit_overrides: Mapping[str, Any]
    # Subscription state as Stripe reported it: status ("" = never subscribed), plan tier, period end.
    billing: Mapping[str, Any]
    created_at: float
    revision: int
    imgix_compat: str = "strict"  # imgix migration mode: strict refuses what imgate lacks, lenient renders without
    signing: str = "off"  # "required": only signed image URLs are answered (gateway.admin.signing sets it)
    keep_copyright: bool = False  # outputs keep the source's copyright and artist, all else stripped
    fallback_image: str = ""  # answered instead of a JSON error on image routes; "" = off
    capture_jobs_allow_http: bool = False  # capture jobs may take http:// pages, if the gateway allows it too

    @classmethod
    def of(cls, workspace: Workspace) -> WorkspaceView:
        limits = dataclasses.asdict(workspace.limits())
        limits["capture_retention_options"] = list(limits["capture_retention_options"])
        billing = {
            "status": workspace.billing.subscription_status,
            "plan": workspace.plan,
            "current_period_end": workspace.billing.current_period_end,
            "stripe_customer_id": workspace.billing.stripe_customer_id,
        }
        return cls(
            namespace=workspace.namespace,
            active=workspace.active,
            origin=origin_view(workspace),
            origin_secret_set=bool(workspace.origin_secret_sealed),
            allowed_origins=workspace.allowed_origins,
            allowed_sources=workspace.allowed_sources,
            allowed_capture_domains=workspace.allowed_capture_domains,
            capture_domains=capture_domains(workspace),
            ip_allowlist=workspace.ip_allowlist,
            capture_retention=workspace.capture_retention,
            capture_retention_in_force=workspace.retention_in_force(),
            plan=workspace.plan,
            limits=limits,
            limit_overrides=workspace.limit_overrides.as_dict(),
            billing=billing,
            created_at=workspace.created_at,
            revision=workspace.revision,
            imgix_compat=workspace.imgix_compat,
            signing=workspace.signing,
            keep_copyright=workspace.keep_copyright,
            fallback_image=workspace.fallback_image,
            capture_jobs_allow_http=workspace.capture_jobs_allow_http,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        shown = dataclasses.asdict(self)
        for name in ("origin", "limits", "limit_overrides", "billing"):
            shown[name] = dict(getattr(self, name))
        for name in (
            "allowed_origins",
            "allowed_sources",
            "allowed_capture_domains",
            "capture_domains",
            "ip_allowlist",
        ):
            shown[name] = list(shown[name])
        return shown


def ip_allowed(workspace: Workspace, address: str) -> bool:
    """May a management API client at ``address`` act on ``workspace``? An empty allowlist allows everyone;
    text that is no IP address is allowed by no list."""
    return address_allowed(workspace.ip_allowlist, address)


def checked_namespace(namespace: str) -> str:
    try:
        return validate_namespace(namespace)
    except ValueError as exc:
        raise Invalid(str(exc), "namespace") from None


async def load(ctx: AdminContext, namespace: str) -> Workspace:
    """The stored record, or ``NotFound`` (``Invalid`` for a name no workspace can have, ``NotFound`` too for a
    caller who does not belong to it: asked before the store, so a stranger learns nothing)."""
    checked = checked_namespace(namespace)
    require(ctx, checked, "read")
    workspace = await ctx.call(ctx.store.get_workspace, checked)
    if workspace is None:
        raise NotFound(f"no workspace {namespace}")
    return workspace


async def save(ctx: AdminContext, workspace: Workspace) -> Workspace:
    """Write back a record read with ``load`` and changed with ``dataclasses.replace``."""
    require(ctx, workspace.namespace, "edit")
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
        "imgix_compat",
        "keep_copyright",
        "fallback_image",
        "capture_jobs_allow_http",
    ):
        value = getattr(changes, name)
        if value is not None:
            updates[name] = tuple(value) if name.startswith("allowed_") else value
    if changes.ip_allowlist is not None:
        try:
            updates["ip_allowlist"] = check_allowlist(changes.ip_allowlist)
        except ValueError as exc:
            raise Invalid(f"ip_allowlist: {exc}", "ip_allowlist") from None
    try:
        updated = dataclasses.replace(workspace, **updates)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    if changes.ip_allowlist and not updated.limits().ip_allowlisting:
        raise Invalid(
            f"ip_allowlist: the {updated.plan} plan does not include IP allowlisting "
            "(it can be cleared, and an operator can grant it with a limit override)",
            "ip_allowlist",
        )
    if changes.capture_retention is not None:
        _check_retention(updated)
    try:
        WorkspacePolicy.compile(updated.allowed_origins, updated.allowed_sources, updated.allowed_capture_domains)
    except InvalidPattern as exc:
        raise Invalid(str(exc)) from None
    return dataclasses.replace(updated, disabled_capture_domains=_disabled(updated, changes))


def _disabled(updated: Workspace, changes: WorkspaceChanges) -> tuple[str, ...]:
    """The disabled capture domains after ``changes``, in the allowed list's order and spelling (the allowed
    patterns are known to compile here)."""
    allowed = updated.allowed_capture_domains
    off: set[str] = set()
    if changes.disabled_capture_domains is not None:
        for pattern in changes.disabled_capture_domains:
            off.add(_capture_domain(allowed, pattern, "disabled_capture_domains"))
    else:
        # Kept as they are; those no longer allowed go (added again later, a pattern comes back enabled).
        off = {pattern for pattern in updated.disabled_capture_domains if pattern in allowed}
    for pattern, enabled in changes.switch_capture_domains or ():
        entry = _capture_domain(allowed, pattern, "capture_domains")
        if enabled:
            off.discard(entry)
        else:
            off.add(entry)
    return tuple(pattern for pattern in allowed if pattern in off)


def _capture_domain(allowed: tuple[str, ...], pattern: str, field: str) -> str:
    try:
        entry = find_capture_domain(allowed, pattern)
    except InvalidPattern as exc:
        raise Invalid(f"{field}: {exc}", field) from None
    if entry is None:
        raise Invalid(f"{field}: {pattern!r} is not one of the workspace's capture domains", field)
    return entry


def _check_retention(workspace: Workspace) -> None:
    limits = workspace.limits()
    if not limits.allows_retention(workspace.capture_retention):
        options = ", ".join(str(seconds) for seconds in limits.capture_retention_options)
        raise Invalid(
            f"capture_retention: the {workspace.plan} plan allows {options} seconds "
            "(an operator can grant more with a limit override)",
            "capture_retention",
        )


async def list_workspaces(ctx: AdminContext) -> list[WorkspaceView]:
    return [WorkspaceView.of(ws) for ws in await ctx.call(ctx.store.list_workspaces)]


async def show_workspace(ctx: AdminContext, namespace: str) -> WorkspaceView:
    return WorkspaceView.of(await load(ctx, namespace))


@audited("workspace.create")
async def create_workspace(ctx: AdminContext, namespace: str, changes: WorkspaceChanges | None = None) -> WorkspaceView:
    """A new workspace (permissive allowlists, no origin, unless ``changes`` say otherwise)."""
    workspace = _changed(Workspace(namespace=checked_namespace(namespace)), changes or WorkspaceChanges(), ctx)
    try:
        stored = await ctx.call(ctx.store.create_workspace, workspace)
    except WorkspaceExists:
        raise Conflict(f"workspace {namespace} already exists") from None
    return WorkspaceView.of(stored)


@audited("workspace.update")
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


@audited("workspace.delete", detached=True)
async def delete_workspace(ctx: AdminContext, namespace: str) -> int:
    """Delete the workspace with all its data (marks, rules, members, keys, audit rows) and its stored outputs;
    returns how many outputs went. ``gateway.admin.export.delete_workspace_with_receipt`` also signs a receipt."""
    require(ctx, namespace, "delete")
    return await remove(ctx, namespace)


async def remove(ctx: AdminContext, namespace: str) -> int:
    """``delete_workspace`` without its audit row, for operations that delete as one of their steps."""
    # The capture jobs first: in Redis they do not go with the workspace's rows, and a store that is away stops
    # the deletion before anything is gone.
    await ctx.call(ctx.store.capture_jobs.forget, checked_namespace(namespace))
    if not await ctx.call(ctx.store.delete_workspace, checked_namespace(namespace)):
        raise NotFound(f"no workspace {namespace}")
    # Memory tiers need nothing: the workspace is gone from every tenancy cache within its TTL, and one created
    # again under the name counts as purged at its creation (``Workspace.purged_after``).
    return await ctx.results.purge(key_prefix(namespace, ""))


@audited("workspace.limits")
async def set_limit_overrides(ctx: AdminContext, namespace: str, overrides: PlanOverrides) -> WorkspaceView:
    """Replace the operator's overrides of the plan's limits (``PlanOverrides()`` clears them all)."""
    require(ctx, namespace, "limits")
    current = await load(ctx, namespace)
    updated = dataclasses.replace(current, limit_overrides=overrides)
    try:
        updated.limits()
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return WorkspaceView.of(await save(ctx, updated))
