"""The SQLite account store's schema (versioned migrations) and the mapping between rows and records.

``MIGRATIONS`` is append only: a released migration is never edited, because a file that has run it will
never run it again; the index + 1 is the schema version it produces (``PRAGMA user_version``). Statements
are split on ``;``, so none may contain one inside a literal.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

from gateway.accounts.audit import AuditEntry
from gateway.accounts.billing import Billing
from gateway.accounts.keys import ApiKey
from gateway.accounts.models import MarkPreset, MarkRule, PurgeMarker, Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.users import Membership, User

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE workspaces (
        namespace TEXT PRIMARY KEY,
        active INTEGER NOT NULL,
        origin_kind TEXT NOT NULL,
        origin TEXT NOT NULL,
        origin_secret_sealed TEXT NOT NULL,
        allowed_origins TEXT NOT NULL,
        allowed_sources TEXT NOT NULL,
        allowed_capture_domains TEXT NOT NULL,
        capture_retention INTEGER NOT NULL,
        plan TEXT NOT NULL,
        purges TEXT NOT NULL,
        created_at REAL NOT NULL,
        revision INTEGER NOT NULL
    );
    """,
    """
    CREATE TABLE marks (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        image_data BLOB NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (namespace, name)
    );
    CREATE TABLE mark_rules (
        rule_id INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        preset TEXT NOT NULL,
        key_patterns TEXT NOT NULL,
        src_host_patterns TEXT NOT NULL
    );
    CREATE INDEX mark_rules_by_namespace ON mark_rules (namespace, position);
    """,
    # Accounts: plan overrides and billing on the workspace, users and memberships, API keys and their daily
    # use, audit rows, processed webhook events. Audit rows carry no foreign key: a refused call on a
    # workspace that does not exist is audited too; deleting a workspace deletes its rows explicitly.
    """
    ALTER TABLE workspaces ADD COLUMN limit_overrides TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE workspaces ADD COLUMN stripe_customer_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE workspaces ADD COLUMN subscription_status TEXT NOT NULL DEFAULT '';
    ALTER TABLE workspaces ADD COLUMN current_period_end REAL NOT NULL DEFAULT 0;
    ALTER TABLE workspaces ADD COLUMN billing_event_at REAL NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX workspaces_by_stripe_customer ON workspaces (stripe_customer_id)
        WHERE stripe_customer_id != '';
    CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        last_sign_in_at REAL
    );
    CREATE TABLE memberships (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        PRIMARY KEY (namespace, user_id)
    );
    CREATE INDEX memberships_by_user ON memberships (user_id, namespace);
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        name TEXT NOT NULL,
        scope TEXT NOT NULL,
        prefix TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        last_used_at REAL,
        revoked_at REAL,
        UNIQUE (namespace, prefix)
    );
    CREATE TABLE api_key_use (
        key_id TEXT NOT NULL REFERENCES api_keys(key_id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (key_id, day)
    );
    CREATE TABLE audit (
        entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        namespace TEXT NOT NULL,
        actor TEXT NOT NULL,
        operation TEXT NOT NULL,
        status INTEGER NOT NULL,
        latency_ms REAL NOT NULL
    );
    CREATE INDEX audit_by_namespace ON audit (namespace, at, entry_id);
    CREATE INDEX audit_by_time ON audit (at);
    CREATE TABLE webhook_events (
        event_id TEXT PRIMARY KEY,
        received_at REAL NOT NULL
    );
    CREATE INDEX webhook_events_by_time ON webhook_events (received_at);
    """,
    # The management API's IP allowlist: a JSON list of CIDR networks, empty = every address.
    """
    ALTER TABLE workspaces ADD COLUMN ip_allowlist TEXT NOT NULL DEFAULT '[]';
    """,
)

_LIST_FIELDS = ("allowed_origins", "allowed_sources", "allowed_capture_domains", "ip_allowlist")
# Billing is one record on the workspace and four columns in the table, so a webhook finds its workspace by
# an index on the customer id.
_BILLING_COLUMNS = {
    "stripe_customer_id": "stripe_customer_id",
    "subscription_status": "subscription_status",
    "current_period_end": "current_period_end",
    "event_at": "billing_event_at",
}


def workspace_row(ws: Workspace) -> dict[str, Any]:
    row: dict[str, Any] = {f.name: getattr(ws, f.name) for f in dataclasses.fields(Workspace)}
    row["active"] = int(ws.active)
    row["origin"] = json.dumps(dict(ws.origin), sort_keys=True)
    for name in _LIST_FIELDS:
        row[name] = json.dumps(list(row[name]))
    row["purges"] = json.dumps([[p.prefix, p.at] for p in ws.purges])
    row["limit_overrides"] = json.dumps(ws.limit_overrides.as_dict(), sort_keys=True)
    del row["billing"]
    for name, column in _BILLING_COLUMNS.items():
        row[column] = getattr(ws.billing, name)
    return row


def workspace_from_row(row: sqlite3.Row) -> Workspace:
    data = dict(row)
    data["active"] = bool(data["active"])
    data["origin"] = json.loads(data["origin"])
    for name in _LIST_FIELDS:
        data[name] = tuple(json.loads(data[name]))
    data["purges"] = tuple(PurgeMarker(prefix, at) for prefix, at in json.loads(data["purges"]))
    data["limit_overrides"] = PlanOverrides.from_dict(json.loads(data["limit_overrides"]))
    data["billing"] = Billing(**{name: data.pop(column) for name, column in _BILLING_COLUMNS.items()})
    return Workspace(**data)


def mark_from_row(row: sqlite3.Row) -> MarkPreset:
    settings = json.loads(row["settings"])
    return MarkPreset(
        namespace=row["namespace"],
        name=row["name"],
        image_data=bytes(row["image_data"]),
        updated_at=float(row["updated_at"]),
        **settings,
    )


def rule_from_row(row: sqlite3.Row) -> MarkRule:
    return MarkRule(
        namespace=row["namespace"],
        rule_id=int(row["rule_id"]),
        position=int(row["position"]),
        preset=row["preset"],
        key_patterns=tuple(json.loads(row["key_patterns"])),
        src_host_patterns=tuple(json.loads(row["src_host_patterns"])),
    )


def user_from_row(row: sqlite3.Row) -> User:
    return User(**dict(row))


def membership_from_row(row: sqlite3.Row) -> Membership:
    return Membership(row["namespace"], row["user_id"], row["role"])


def key_from_row(row: sqlite3.Row) -> ApiKey:
    return ApiKey(**dict(row))


def audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(**dict(row))
