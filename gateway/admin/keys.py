"""API keys of a workspace: create (the secret is in the answer once), list, revoke, and authenticate one.

A key is shown afterwards by its 12-character prefix, its name and scope, and when it was created, last used
and revoked: ``KeyView`` has no field that could hold the secret or its digest. The secret exists only in the
``CreatedKey`` that ``create_key`` returns; the store keeps its SHA-256 (``gateway.accounts.keys``).

``authenticate_key`` is what the management API calls on every request. It looks the key up by the digest of
what was sent, with no cache in front of the store, so a revocation counts from the next request on every
worker and node; it compares the digest in constant time, writes the key's last-used time at most once a
minute per process (``ctx.key_throttle``) and counts the request in the key's daily counter.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.accounts.keys import (
    SCOPES,
    ApiKey,
    check_key_name,
    digest,
    digests_match,
    issue_api_key,
    looks_like_secret,
)
from gateway.accounts.last_used import LastUsedThrottle
from gateway.accounts.store import AccountStore, WorkspaceMissing
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Invalid, NotFound
from gateway.admin.roles import require
from gateway.admin.workspaces import load

USAGE_DAYS = 30


@dataclass(frozen=True, slots=True)
class KeyView:
    """A key as anyone may see it after its creation."""

    prefix: str
    name: str
    scope: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyView:
        return cls(key.prefix, key.name, key.scope, key.created_at, key.last_used_at, key.revoked_at)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """The one answer that holds a key's secret: show it to its owner now, it cannot be shown again."""

    secret: str = field(repr=False)
    key: KeyView


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """Requests one key authenticated on one UTC day."""

    prefix: str
    name: str
    day: date
    requests: int

    def as_dict(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "name": self.name, "day": self.day.isoformat(), "requests": self.requests}


def _checked(name: str, scope: str) -> None:
    try:
        check_key_name(name)
    except ValueError as exc:
        raise Invalid(f"name: {exc}", "name") from None
    if scope not in SCOPES:
        raise Invalid(f"scope: must be one of {', '.join(SCOPES)} (write implies read)", "scope")


@audited("key.create")
async def create_key(ctx: AdminContext, namespace: str, name: str, scope: str = "read") -> CreatedKey:
    """A new key named ``name`` (a label such as "Production") with ``scope`` ``read`` or ``write``.

    Members create read keys; a write key only an owner (a key with the write scope could otherwise be made
    by anyone who may make a key, and do with it what their role does not allow)."""
    _checked(name, scope)
    require(ctx, namespace, "write_keys" if scope == "write" else "edit")
    await load(ctx, namespace)
    try:
        secret, record = await ctx.call(issue_api_key, ctx.store, namespace, name, scope)
    except WorkspaceMissing:
        raise NotFound(f"no workspace {namespace}") from None
    return CreatedKey(secret, KeyView.of(record))


async def list_keys(ctx: AdminContext, namespace: str) -> list[KeyView]:
    """Every key of the workspace, revoked ones included, oldest first."""
    require(ctx, namespace, "read")
    await load(ctx, namespace)
    return [KeyView.of(key) for key in await ctx.call(ctx.store.list_api_keys, namespace)]


@audited("key.revoke")
async def revoke_key(ctx: AdminContext, namespace: str, prefix: str) -> KeyView:
    """Revoke the key with this prefix (revoking a revoked key changes nothing and answers it)."""
    require(ctx, namespace, "edit")
    await load(ctx, namespace)
    if looks_like_secret(prefix):
        # Never repeated in the message: it is a secret, and messages end up in terminals and logs.
        raise Invalid("prefix: give the key's 12-character prefix, not its secret", "prefix")
    revoked = await ctx.call(ctx.store.revoke_api_key, namespace, prefix)
    if revoked is None:
        raise NotFound(f"no key with that prefix in {namespace}")
    return KeyView.of(revoked)


async def authenticate_key(ctx: AdminContext, secret: str) -> ApiKey | None:
    """The key ``secret`` belongs to, or ``None`` when it is unknown, revoked, or not a secret at all (a
    key's 12-character prefix is a label, never a credential)."""
    if not isinstance(secret, str) or not looks_like_secret(secret):
        return None
    return await ctx.call(_authenticate, ctx.store, ctx.key_throttle, digest(secret))


def _authenticate(store: AccountStore, throttle: LastUsedThrottle, hashed: str) -> ApiKey | None:
    # One thread hop for the lookup and the bookkeeping: this runs on every management API request.
    key = store.find_api_key(hashed)
    if key is None or key.revoked or not digests_match(hashed, key.sha256):
        return None
    now = time.time()
    if throttle.due(key.key_id):
        store.touch_api_key(key.key_id, now)
        key = dataclasses.replace(key, last_used_at=now)
    store.count_key_use(key.key_id, datetime.fromtimestamp(now, UTC).date())
    return key


async def list_key_usage(
    ctx: AdminContext, namespace: str, first: date | None = None, last: date | None = None
) -> list[KeyUsage]:
    """Requests per key and UTC day from ``first`` to ``last`` (default: the last ``USAGE_DAYS`` days), by day."""
    await load(ctx, namespace)
    last = last or datetime.now(UTC).date()
    # Near the first day the calendar has, the default range starts on that day rather than overflowing.
    back = timedelta(days=USAGE_DAYS - 1)
    first = first or (last - back if last - date.min >= back else date.min)
    if first > last:
        raise Invalid("first: must not be after last", "first")
    keys = {key.key_id: key for key in await ctx.call(ctx.store.list_api_keys, namespace)}
    uses = await ctx.call(ctx.store.list_key_use, namespace, first, last)
    return [
        KeyUsage(keys[use.key_id].prefix, keys[use.key_id].name, use.day, use.requests)
        for use in uses
        if use.key_id in keys
    ]
