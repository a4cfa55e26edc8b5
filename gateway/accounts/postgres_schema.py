"""The PostgreSQL account store's schema: versioned migrations in a ``schema_version`` table.

``MIGRATIONS`` is append only, as SQLite's (``gateway.accounts.sqlite_schema``): a released migration is never
edited, because a database that has run it never runs it again; the index + 1 is the version it produces. The
tables and columns are SQLite's, so the row mapping there (``workspace_row``, ``workspace_from_row``, ...) is
shared: JSON stays ``TEXT`` and flags stay integers for that reason, while ids are identity columns, days are
``DATE`` and times ``DOUBLE PRECISION`` (the epoch seconds every record carries).

A new column of ``Workspace`` needs a migration here as well as in SQLite's list;
``tests/gateway/accounts/test_postgres_store.py`` fails until both tables have the same columns.

``migrate`` runs every pending migration in ONE transaction under a transaction-level advisory lock: several
processes starting at once (Granian workers after a deploy, the ``imgate`` command) queue on the lock, and
each reads the version only once it holds it, so the schema is migrated exactly once. PostgreSQL's DDL is
transactional, so a migration that fails leaves no half-made table behind.
"""

from __future__ import annotations

from psycopg import Connection
from psycopg.rows import DictRow

# pg_advisory_xact_lock's key for schema changes: any constant, the same in every imgate release.
MIGRATION_LOCK = 0x1A6A7E

MIGRATIONS: tuple[str, ...] = (
    # Everything SQLite's first eleven migrations made, in one (its later ones each have one here): workspaces,
    # marks and rules, users and memberships, API keys and their daily use, audit rows, webhook events, usage
    # counters, sign-in codes and sessions, custom domains, capture jobs.
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
        created_at DOUBLE PRECISION NOT NULL,
        revision BIGINT NOT NULL,
        limit_overrides TEXT NOT NULL DEFAULT '{}',
        stripe_customer_id TEXT NOT NULL DEFAULT '',
        subscription_status TEXT NOT NULL DEFAULT '',
        current_period_end DOUBLE PRECISION NOT NULL DEFAULT 0,
        billing_event_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        ip_allowlist TEXT NOT NULL DEFAULT '[]',
        disabled_capture_domains TEXT NOT NULL DEFAULT '[]',
        signing TEXT NOT NULL DEFAULT 'off',
        signing_keys TEXT NOT NULL DEFAULT '[]',
        presets TEXT NOT NULL DEFAULT '[]',
        default_params TEXT NOT NULL DEFAULT '',
        allowed_widths TEXT NOT NULL DEFAULT '[]',
        width_rounding TEXT NOT NULL DEFAULT 'up',
        custom_domain_hsts INTEGER NOT NULL DEFAULT 0,
        imgix_compat TEXT NOT NULL DEFAULT 'strict'
    );
    CREATE UNIQUE INDEX workspaces_by_stripe_customer ON workspaces (stripe_customer_id)
        WHERE stripe_customer_id != '';
    CREATE TABLE marks (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        image_data BYTEA NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (namespace, name)
    );
    CREATE TABLE mark_rules (
        rule_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        preset TEXT NOT NULL,
        key_patterns TEXT NOT NULL,
        src_host_patterns TEXT NOT NULL
    );
    CREATE INDEX mark_rules_by_namespace ON mark_rules (namespace, position);
    CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        created_at DOUBLE PRECISION NOT NULL,
        last_sign_in_at DOUBLE PRECISION
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
        created_at DOUBLE PRECISION NOT NULL,
        last_used_at DOUBLE PRECISION,
        revoked_at DOUBLE PRECISION,
        CONSTRAINT api_keys_prefix_in_workspace UNIQUE (namespace, prefix)
    );
    CREATE TABLE api_key_use (
        key_id TEXT NOT NULL REFERENCES api_keys(key_id) ON DELETE CASCADE,
        day DATE NOT NULL,
        requests BIGINT NOT NULL,
        PRIMARY KEY (key_id, day)
    );
    CREATE TABLE audit (
        entry_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at DOUBLE PRECISION NOT NULL,
        namespace TEXT NOT NULL,
        actor TEXT NOT NULL,
        operation TEXT NOT NULL,
        status INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX audit_by_namespace ON audit (namespace, at, entry_id);
    CREATE INDEX audit_by_time ON audit (at);
    CREATE TABLE webhook_events (
        event_id TEXT PRIMARY KEY,
        received_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX webhook_events_by_time ON webhook_events (received_at);
    CREATE TABLE usage_days (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        day DATE NOT NULL,
        requests BIGINT NOT NULL DEFAULT 0,
        hits_memory BIGINT NOT NULL DEFAULT 0,
        hits_store BIGINT NOT NULL DEFAULT 0,
        renders BIGINT NOT NULL DEFAULT 0,
        captures BIGINT NOT NULL DEFAULT 0,
        bytes_out BIGINT NOT NULL DEFAULT 0,
        not_modified BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (namespace, day)
    );
    CREATE TABLE usage_errors (
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        day DATE NOT NULL,
        code TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (namespace, day, code)
    );
    CREATE TABLE signin_codes (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        code_id TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        digest TEXT NOT NULL,
        client TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        attempts INTEGER NOT NULL,
        used_at DOUBLE PRECISION
    );
    CREATE INDEX signin_codes_by_email ON signin_codes (email, created_at);
    CREATE INDEX signin_codes_by_client ON signin_codes (client, created_at);
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        last_seen_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION
    );
    CREATE INDEX sessions_by_user ON sessions (user_id);
    CREATE TABLE domains (
        hostname TEXT PRIMARY KEY,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        token TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        checked_at DOUBLE PRECISION NOT NULL,
        failures INTEGER NOT NULL
    );
    CREATE INDEX domains_by_namespace ON domains (namespace, hostname);
    CREATE INDEX domains_by_check ON domains (state, checked_at);
    CREATE TABLE capture_jobs (
        job_id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL REFERENCES workspaces(namespace) ON DELETE CASCADE,
        url TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        auth_sealed TEXT,
        attempts INTEGER NOT NULL,
        worker TEXT,
        lease_until DOUBLE PRECISION,
        started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION,
        error_code TEXT,
        error_message TEXT,
        result_key TEXT,
        result_format TEXT,
        result_content_type TEXT,
        result_bytes BIGINT,
        result_width INTEGER,
        result_height INTEGER,
        result_expires_at DOUBLE PRECISION,
        downloaded_at DOUBLE PRECISION,
        result_deleted_at DOUBLE PRECISION
    );
    CREATE INDEX capture_jobs_by_namespace ON capture_jobs (namespace, created_at, job_id);
    CREATE INDEX capture_jobs_by_status ON capture_jobs (status, created_at);
    CREATE TABLE capture_workers (
        worker TEXT PRIMARY KEY,
        seen_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE capture_webhook_secrets (
        namespace TEXT PRIMARY KEY REFERENCES workspaces(namespace) ON DELETE CASCADE,
        secret_sealed TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    """,
    # Outputs that keep the source's copyright and artist, and the image answered instead of a JSON error.
    """
    ALTER TABLE workspaces ADD COLUMN keep_copyright INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE workspaces ADD COLUMN fallback_image TEXT NOT NULL DEFAULT '';
    """,
    # Custom domains: one claim per (hostname, workspace), so a pending claim blocks nobody, and at most one
    # verified row per hostname (the first workspace to prove it wins).
    """
    ALTER TABLE domains DROP CONSTRAINT domains_pkey;
    ALTER TABLE domains ADD PRIMARY KEY (hostname, namespace);
    CREATE UNIQUE INDEX domains_verified_once ON domains (hostname) WHERE state = 'verified';
    """,
    # Capture jobs of a workspace that may take http:// pages (within the gateway's capture_jobs_allow_http).
    """
    ALTER TABLE workspaces ADD COLUMN capture_jobs_allow_http INTEGER NOT NULL DEFAULT 0;
    """,
    # A capture job's webhook kept until delivered or given up, so a restart loses none (claim_webhook).
    """
    ALTER TABLE capture_jobs ADD COLUMN webhook_due_at DOUBLE PRECISION;
    ALTER TABLE capture_jobs ADD COLUMN webhook_attempts INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX capture_jobs_by_webhook ON capture_jobs (webhook_due_at) WHERE webhook_due_at IS NOT NULL;
    """,
)


class SchemaTooNew(RuntimeError):
    def __init__(self, found: int) -> None:
        super().__init__(
            f"the account database has schema version {found}, newer than this imgate knows "
            f"({len(MIGRATIONS)}): it was written by a later release"
        )
        self.found = found


def migrate(conn: Connection[DictRow]) -> int:
    """Bring the database to the latest schema; the version it has afterwards. ``SchemaTooNew`` when newer."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = read_version(conn)
        if version is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (0)")
            version = 0
        if version > len(MIGRATIONS):
            raise SchemaTooNew(version)
        for migration in MIGRATIONS[version:]:
            # One statement per execute: psycopg sends a multi-statement string only without parameters, and
            # splitting keeps an error's position pointing into the statement that failed.
            for statement in filter(str.strip, migration.split(";")):
                conn.execute(statement)
        conn.execute("UPDATE schema_version SET version = %s", (len(MIGRATIONS),))
    return len(MIGRATIONS)


def read_version(conn: Connection[DictRow]) -> int | None:
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        return None
    return int(row["version"])
