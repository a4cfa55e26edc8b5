"""The admin layer: every operation on workspaces, origins, marks, rules, purges, keys, members, billing and
data handling, as typed coroutines.

The ``imgate`` command, the management API and the dashboard are adapters over these functions: they parse
their input into the ``*Changes`` records, call, and present the returned records (never printed text). Each
operation validates exactly as the request path does (the same URL parser, allowlist compiler, mark builder
and ``Source``) and raises ``AdminError`` (``Invalid``, ``NotFound``, ``Conflict``; see ``errors``). Every
operation that changes something records an audit row naming ``ctx.actor`` (see ``audit``).

    context.py     AdminContext: account store, settings, secret box, result store, source builder, actor
    roles.py       who may do what: the caller (operator, a person's role, a key's scope) and require()
    audit.py       the audit log: audit_call / audited (the one writer), record_audit, list_audit, prune_audit
    workspaces.py  create / update / show / list / delete; limit overrides; IP allowlist (ip_allowed)
    origins.py     origin changes (none, local, http, s3, r2) and the secret-free view of an origin
    marks.py       mark presets: image from the origin or uploaded, or text
    rules.py       auto-apply rules: add / list / move / delete
    purge.py       purge markers for memory tiers, deletion from the result store, for every source kind
    keys.py        API keys: create (secret shown once) / list / revoke / authenticate; daily use
    usage.py       the workspace's usage counters per UTC day (API, CLI and dashboard charts read this)
    members.py     members by email: add / remove / change role / list; the last owner stays
    signin.py      sign-in by emailed code, sessions, sign out (everywhere), a user's own workspace; pruning
    domains.py     custom domains: add (the DNS records to create) / list / show / check / remove; HSTS
    billing.py     Stripe: bind a customer, apply subscription events (plan tier, status, period end)
    export.py      export everything stored about a workspace; delete it with a signed receipt
    receipts.py    deletion receipts: HMAC-SHA256 by a key derived from the gateway's secret key
    checks.py      check_origin: plain words on what is wrong with an origin
    demo.py        the demo workspace
"""

from __future__ import annotations

from gateway.admin.audit import AuditedCall, audit_call, audited, list_audit, prune_audit, record_audit
from gateway.admin.billing import apply_stripe_event, bind_stripe_customer
from gateway.admin.checks import OriginCheck, check_origin
from gateway.admin.context import AdminContext
from gateway.admin.demo import DemoExample, DemoSeed, seed_demo
from gateway.admin.errors import AdminError, Conflict, Forbidden, Invalid, NotFound
from gateway.admin.export import delete_workspace_with_receipt, export_workspace, verify_receipt
from gateway.admin.keys import (
    CreatedKey,
    KeyUsage,
    KeyView,
    authenticate_key,
    create_key,
    list_key_usage,
    list_keys,
    revoke_key,
)
from gateway.admin.marks import MarkChanges, MarkView, create_mark, delete_mark, list_marks, show_mark, update_mark
from gateway.admin.members import MemberView, add_member, change_role, list_members, remove_member
from gateway.admin.origins import ORIGIN_CHOICES, OriginChanges
from gateway.admin.purge import PurgeResult, purge
from gateway.admin.receipts import Receipt
from gateway.admin.rules import add_rule, delete_rule, list_rules, move_rule
from gateway.admin.signin import (
    CurrentUser,
    PrunedSignIns,
    SignedIn,
    SignInSetup,
    create_owned_workspace,
    current_user,
    memberships_of,
    prune_signins,
    request_code,
    sign_in,
    sign_out,
    sign_out_everywhere,
)
from gateway.admin.workspaces import (
    WorkspaceChanges,
    WorkspaceView,
    create_workspace,
    delete_workspace,
    ip_allowed,
    list_workspaces,
    set_limit_overrides,
    show_workspace,
    update_workspace,
)

__all__ = [
    "ORIGIN_CHOICES",
    "AdminContext",
    "AdminError",
    "AuditedCall",
    "Conflict",
    "Forbidden",
    "CreatedKey",
    "CurrentUser",
    "DemoExample",
    "DemoSeed",
    "Invalid",
    "KeyUsage",
    "KeyView",
    "MarkChanges",
    "MarkView",
    "MemberView",
    "NotFound",
    "OriginChanges",
    "OriginCheck",
    "PrunedSignIns",
    "PurgeResult",
    "Receipt",
    "SignInSetup",
    "SignedIn",
    "WorkspaceChanges",
    "WorkspaceView",
    "add_member",
    "add_rule",
    "apply_stripe_event",
    "audit_call",
    "audited",
    "authenticate_key",
    "bind_stripe_customer",
    "change_role",
    "check_origin",
    "create_key",
    "create_mark",
    "create_owned_workspace",
    "create_workspace",
    "current_user",
    "delete_mark",
    "delete_rule",
    "delete_workspace",
    "delete_workspace_with_receipt",
    "export_workspace",
    "ip_allowed",
    "list_audit",
    "list_key_usage",
    "list_keys",
    "list_marks",
    "list_members",
    "list_rules",
    "list_workspaces",
    "memberships_of",
    "move_rule",
    "prune_audit",
    "prune_signins",
    "purge",
    "record_audit",
    "remove_member",
    "request_code",
    "revoke_key",
    "seed_demo",
    "set_limit_overrides",
    "show_mark",
    "show_workspace",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
    "update_mark",
    "update_workspace",
    "verify_receipt",
]
