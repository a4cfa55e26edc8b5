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
from gateway.accounts.presets import presets_from_json
from gateway.accounts.signing import keys_from_json
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
    # Usage counters per workspace per UTC day (gateway.accounts.sqlite_usage), errors by code beside them.
    """
    CREATE TABLE usage_days (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        day TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        hits_memory INTEGER NOT NULL DEFAULT 0,
        hits_store INTEGER NOT NULL DEFAULT 0,
        renders INTEGER NOT NULL DEFAULT 0,
        captures INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        not_modified INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (namespace, day)
    );
    CREATE TABLE usage_errors (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (namespace, day, code)
    );
    """,
    # Capture domains switched off: a JSON list of patterns from allowed_capture_domains.
    """
    ALTER TABLE workspaces ADD COLUMN disabled_capture_domains TEXT NOT NULL DEFAULT '[]';
    """,
    # Dashboard sign-in codes (HMACs only) and sessions (SHA-256 of their ids): gateway.accounts.sqlite_signin.
    """
    CREATE TABLE signin_codes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        code_id TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        digest TEXT NOT NULL,
        client TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        attempts INTEGER NOT NULL,
        used_at REAL
    );
    CREATE INDEX signin_codes_by_email ON signin_codes (email, created_at);
    CREATE INDEX signin_codes_by_client ON signin_codes (client, created_at);
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_seen_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX sessions_by_user ON sessions (user_id);
    """,
    # Signed URLs (mode, sealed secrets as JSON) and URL shaping (presets as JSON, default parameters, widths).
    """
    ALTER TABLE workspaces ADD COLUMN signing TEXT NOT NULL DEFAULT 'off';
    ALTER TABLE workspaces ADD COLUMN signing_keys TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE workspaces ADD COLUMN presets TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE workspaces ADD COLUMN default_params TEXT NOT NULL DEFAULT '';
    ALTER TABLE workspaces ADD COLUMN allowed_widths TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE workspaces ADD COLUMN width_rounding TEXT NOT NULL DEFAULT 'up';
    """,
    # Custom domains (gateway.accounts.sqlite_domains): one row per hostname, removed ones kept as history; and
    # whether the workspace's custom domains answer with Strict-Transport-Security.
    """
    CREATE TABLE domains (
        hostname TEXT PRIMARY KEY,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        token TEXT NOT NULL,
        created_at REAL NOT NULL,
        checked_at REAL NOT NULL,
        failures INTEGER NOT NULL
    );
    CREATE INDEX domains_by_namespace ON domains (namespace, hostname);
    CREATE INDEX domains_by_check ON domains (state, checked_at);
    ALTER TABLE workspaces ADD COLUMN custom_domain_hsts INTEGER NOT NULL DEFAULT 0;
    """,
    # imgix migration mode: "strict" refuses imgix parameters imgate does not implement, "lenient" renders without.
    """
    ALTER TABLE workspaces ADD COLUMN imgix_compat TEXT NOT NULL DEFAULT 'strict';
    """,
    # Capture jobs of the management API (gateway.accounts.sqlite_capture_jobs), the workers that take them, and
    # each workspace's sealed webhook signing secret.
    """
    CREATE TABLE capture_jobs (
        job_id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        url TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at REAL NOT NULL,
        status TEXT NOT NULL,
        auth_sealed TEXT,
        attempts INTEGER NOT NULL,
        worker TEXT,
        lease_until REAL,
        started_at REAL,
        finished_at REAL,
        error_code TEXT,
        error_message TEXT,
        result_key TEXT,
        result_format TEXT,
        result_content_type TEXT,
        result_bytes INTEGER,
        result_width INTEGER,
        result_height INTEGER,
        result_expires_at REAL,
        downloaded_at REAL,
        result_deleted_at REAL
    );
    CREATE INDEX capture_jobs_by_namespace ON capture_jobs (namespace, created_at, job_id);
    CREATE INDEX capture_jobs_by_status ON capture_jobs (status, created_at);
    CREATE TABLE capture_workers (
        worker TEXT PRIMARY KEY,
        seen_at REAL NOT NULL
    );
    CREATE TABLE capture_webhook_secrets (
        namespace TEXT PRIMARY KEY REFERENCES workspaces(namespace) ON DELETE CASCADE,
        secret_sealed TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # Outputs that keep the source's copyright and artist, and the image answered instead of a JSON error.
    """
    ALTER TABLE workspaces ADD COLUMN keep_copyright INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE workspaces ADD COLUMN fallback_image TEXT NOT NULL DEFAULT '';
    """,
    # Custom domains: one claim per (hostname, workspace), so a pending claim blocks nobody, and at most one
    # verified row per hostname (the first workspace to prove it wins). SQLite cannot change a primary key in
    # place: the table is copied into its new shape.
    """
    CREATE TABLE domains_by_claim (
        hostname TEXT NOT NULL,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        token TEXT NOT NULL,
        created_at REAL NOT NULL,
        checked_at REAL NOT NULL,
        failures INTEGER NOT NULL,
        PRIMARY KEY (hostname, namespace)
    );
    INSERT INTO domains_by_claim SELECT hostname, namespace, state, reason, token, created_at, checked_at, failures
        FROM domains;
    DROP TABLE domains;
    ALTER TABLE domains_by_claim RENAME TO domains;
    CREATE INDEX domains_by_namespace ON domains (namespace, hostname);
    CREATE INDEX domains_by_check ON domains (state, checked_at);
    CREATE UNIQUE INDEX domains_verified_once ON domains (hostname) WHERE state = 'verified';
    """,
    # Capture jobs of a workspace that may take http:// pages (within the gateway's capture_jobs_allow_http).
    """
    ALTER TABLE workspaces ADD COLUMN capture_jobs_allow_http INTEGER NOT NULL DEFAULT 0;
    """,
    # A capture job's webhook kept until delivered or given up, so a restart loses none (claim_webhook).
    """
    ALTER TABLE capture_jobs ADD COLUMN webhook_due_at REAL;
    ALTER TABLE capture_jobs ADD COLUMN webhook_attempts INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX capture_jobs_by_webhook ON capture_jobs (webhook_due_at) WHERE webhook_due_at IS NOT NULL;
    """,
)

_LIST_FIELDS = (
    "allowed_origins",
    "allowed_sources",
    "allowed_capture_domains",
    "disabled_capture_domains",
    "ip_allowlist",
)
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
    row["custom_domain_hsts"] = int(ws.custom_domain_hsts)
    row["origin"] = json.dumps(dict(ws.origin), sort_keys=True)
    for name in _LIST_FIELDS:
        row[name] = json.dumps(list(row[name]))
    row["purges"] = json.dumps([[p.prefix, p.at] for p in ws.purges])
    row["limit_overrides"] = json.dumps(ws.limit_overrides.as_dict(), sort_keys=True)
    row["signing_keys"] = json.dumps([key.as_dict() for key in ws.signing_keys])
    row["presets"] = json.dumps([preset.as_dict() for preset in ws.presets])
    row["allowed_widths"] = json.dumps(list(ws.allowed_widths))
    del row["billing"]
    for name, column in _BILLING_COLUMNS.items():
        row[column] = getattr(ws.billing, name)
    return row


def workspace_from_row(row: sqlite3.Row) -> Workspace:
    data = dict(row)
    data["active"] = bool(data["active"])
    data["custom_domain_hsts"] = bool(data["custom_domain_hsts"])
    data["keep_copyright"] = bool(data["keep_copyright"])
    data["capture_jobs_allow_http"] = bool(data["capture_jobs_allow_http"])
    data["origin"] = json.loads(data["origin"])
    for name in _LIST_FIELDS:
        data[name] = tuple(json.loads(data[name]))
    data["purges"] = tuple(PurgeMarker(prefix, at) for prefix, at in json.loads(data["purges"]))
    data["limit_overrides"] = PlanOverrides.from_dict(json.loads(data["limit_overrides"]))
    data["signing_keys"] = keys_from_json(json.loads(data["signing_keys"]))
    data["presets"] = presets_from_json(json.loads(data["presets"]))
    data["allowed_widths"] = tuple(json.loads(data["allowed_widths"]))
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
