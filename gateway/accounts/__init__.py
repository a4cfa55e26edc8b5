"""Users, workspaces and their settings, behind the ``AccountStore`` protocol.

store.py         AccountStore protocol, its domain errors (WorkspaceConflict, LastOwner, ...)
models.py        Workspace, MarkPreset, MarkRule, PurgeMarker
plans.py         the plan table (free, pro, business, enterprise), PlanOverrides, effective_limits
billing.py       Billing: a workspace's Stripe customer and subscription state, never card data
users.py         User, Membership, normalise_email
keys.py          API key material (new_api_key, digest), the ApiKey record, issue_api_key
last_used.py     LastUsedThrottle: a key's last-used time written at most once a minute
audit.py         AuditEntry, AuditPage and its cursor
networks.py      a workspace's IP allowlist: CIDR entries in normal form, address matching
sqlite.py        SqliteAccountStore (schema and row mapping in sqlite_schema.py)
postgres.py      PostgresAccountStore, several nodes on one database (schema in postgres_schema.py)
postgres_logs.py keeps the server's address and database name out of psycopg's own log lines
memory.py        MemoryAccountStore, for tests and throwaway demos
factory.py       build_account_store(settings)
secrets.py       SecretBox: storage credentials sealed at rest; keyring.py: the process's box
tokens.py        TokenSigner: the gateway's own HMAC tokens (receipts, code digests, result links, CSRF), per Purpose
"""
