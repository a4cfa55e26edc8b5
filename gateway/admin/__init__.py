"""The admin layer: every operation on workspaces, origins, marks, rules and purges, as typed coroutines.

The ``imgate`` command, the management API and the dashboard are adapters over these functions: they parse
their input into the ``*Changes`` records, call, and present the returned records (never printed text). Each
operation validates exactly as the request path does (the same URL parser, allowlist compiler, mark builder
and ``Source``) and raises ``AdminError`` (``Invalid``, ``NotFound``, ``Conflict``; see ``errors``).

    context.py     AdminContext: account store, settings, secret box, result store, source builder
    workspaces.py  create / update / show / list / delete; compare-and-set on the revision
    origins.py     origin changes (none, local, http, s3, r2) and the secret-free view of an origin
    marks.py       mark presets: image from the origin or uploaded, or text
    rules.py       auto-apply rules: add / list / move / delete
    purge.py       purge markers for memory tiers, deletion from the result store, for every source kind
    checks.py      check_origin: plain words on what is wrong with an origin
    demo.py        the demo workspace
"""

from __future__ import annotations

from gateway.admin.checks import OriginCheck, check_origin
from gateway.admin.context import AdminContext
from gateway.admin.demo import DemoExample, DemoSeed, seed_demo
from gateway.admin.errors import AdminError, Conflict, Invalid, NotFound
from gateway.admin.marks import MarkChanges, MarkView, create_mark, delete_mark, list_marks, show_mark, update_mark
from gateway.admin.origins import ORIGIN_CHOICES, OriginChanges
from gateway.admin.purge import PurgeResult, purge
from gateway.admin.rules import add_rule, delete_rule, list_rules, move_rule
from gateway.admin.workspaces import (
    WorkspaceChanges,
    WorkspaceView,
    create_workspace,
    delete_workspace,
    list_workspaces,
    show_workspace,
    update_workspace,
)

__all__ = [
    "ORIGIN_CHOICES",
    "AdminContext",
    "AdminError",
    "Conflict",
    "DemoExample",
    "DemoSeed",
    "Invalid",
    "MarkChanges",
    "MarkView",
    "NotFound",
    "OriginChanges",
    "OriginCheck",
    "PurgeResult",
    "WorkspaceChanges",
    "WorkspaceView",
    "add_rule",
    "check_origin",
    "create_mark",
    "create_workspace",
    "delete_mark",
    "delete_rule",
    "delete_workspace",
    "list_marks",
    "list_rules",
    "list_workspaces",
    "move_rule",
    "purge",
    "seed_demo",
    "show_mark",
    "show_workspace",
    "update_mark",
    "update_workspace",
]
