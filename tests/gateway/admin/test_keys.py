"""API keys through the admin layer: the secret once, views without it, revocation, authentication, daily use."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime

import pytest

from gateway import admin
from gateway.accounts.keys import PREFIX_LENGTH, digest, looks_like_secret
from gateway.accounts.last_used import LastUsedThrottle
from gateway.accounts.memory import MemoryAccountStore
from gateway.admin import AdminContext, Invalid, KeyView, NotFound

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")
    await admin.create_workspace(ctx, "other")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_secret_is_in_the_creation_answer_only(ctx: AdminContext, acme: None) -> None:
    created = await admin.create_key(ctx, "acme", "Production", "write")
    assert looks_like_secret(created.secret) and created.secret not in repr(created)
    assert created.key.prefix == created.secret[:PREFIX_LENGTH]
    assert (created.key.name, created.key.scope, created.key.revoked) == ("Production", "write", False)
    assert set(KeyView.__dataclass_fields__) == {"prefix", "name", "scope", "created_at", "last_used_at", "revoked_at"}
    listed = await admin.list_keys(ctx, "acme")
    assert listed == [created.key]
    shown = json.dumps([key.as_dict() for key in listed])
    assert created.secret not in shown and digest(created.secret) not in shown
    assert created.secret[PREFIX_LENGTH:] not in shown


async def test_the_default_scope_is_read(ctx: AdminContext, acme: None) -> None:
    assert (await admin.create_key(ctx, "acme", "Staging")).key.scope == "read"


@pytest.mark.parametrize(
    ("name", "scope", "field"),
    [("", "read", "name"), (" padded ", "read", "name"), ("x" * 65, "read", "name"), ("CI", "admin", "scope")],
)
async def test_bad_names_and_scopes_are_invalid(
    ctx: AdminContext, acme: None, name: str, scope: str, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_key(ctx, "acme", name, scope)
    assert refused.value.field == field
    assert await admin.list_keys(ctx, "acme") == []


async def test_keys_of_an_unknown_workspace(ctx: AdminContext) -> None:
    for operation in (
        admin.create_key(ctx, "ghost", "Production"),
        admin.list_keys(ctx, "ghost"),
        admin.revoke_key(ctx, "ghost", "imk_live_abc"),
    ):
        with pytest.raises(NotFound):
            await operation


async def test_authentication_finds_the_key_of_a_secret(ctx: AdminContext, acme: None) -> None:
    created = await admin.create_key(ctx, "acme", "Production", "write")
    key = await admin.authenticate_key(ctx, created.secret)
    assert key is not None and (key.namespace, key.prefix, key.scope) == ("acme", created.key.prefix, "write")


@pytest.mark.parametrize(
    "sent",
    [
        "prefix",
        "",
        "imk_live_",
        "Bearer {secret}",
        "{secret} ",
        "{secret}x",
        "imk_test_{rest}",
        "imk_live_" + "0" * 43,
    ],
)
async def test_anything_but_a_live_secret_authenticates_nothing(ctx: AdminContext, acme: None, sent: str) -> None:
    created = await admin.create_key(ctx, "acme", "Production")
    sent = {"prefix": created.key.prefix}.get(sent, sent)
    sent = sent.format(secret=created.secret, rest=created.secret[len("imk_live_") :])
    assert await admin.authenticate_key(ctx, sent) is None


async def test_a_revoked_key_stops_authenticating_at_once(ctx: AdminContext, acme: None) -> None:
    created = await admin.create_key(ctx, "acme", "Production")
    assert await admin.authenticate_key(ctx, created.secret) is not None
    revoked = await admin.revoke_key(ctx, "acme", created.key.prefix)
    assert revoked.revoked and revoked.prefix == created.key.prefix
    assert await admin.authenticate_key(ctx, created.secret) is None
    again = await admin.revoke_key(ctx, "acme", created.key.prefix)
    assert again.revoked_at == revoked.revoked_at
    assert (await admin.list_keys(ctx, "acme"))[0].revoked_at == revoked.revoked_at


async def test_revoking_names_a_key_of_that_workspace_by_its_prefix(ctx: AdminContext, acme: None) -> None:
    created = await admin.create_key(ctx, "acme", "Production")
    with pytest.raises(NotFound) as missing:
        await admin.revoke_key(ctx, "other", created.key.prefix)
    assert created.key.prefix not in missing.value.message
    with pytest.raises(Invalid) as refused:
        await admin.revoke_key(ctx, "acme", created.secret)
    assert refused.value.field == "prefix" and created.secret not in refused.value.message
    assert await admin.authenticate_key(ctx, created.secret) is not None


async def test_last_use_is_written_at_most_once_a_minute(
    ctx: AdminContext, store: MemoryAccountStore, acme: None
) -> None:
    clock = Clock()
    ctx = dataclasses.replace(ctx, key_throttle=LastUsedThrottle(clock=clock))
    created = await admin.create_key(ctx, "acme", "Production")
    assert (await admin.list_keys(ctx, "acme"))[0].last_used_at is None
    first = await admin.authenticate_key(ctx, created.secret)
    assert first is not None and first.last_used_at is not None
    stored = (await admin.list_keys(ctx, "acme"))[0].last_used_at
    assert stored == first.last_used_at
    clock.now += 59
    await admin.authenticate_key(ctx, created.secret)
    assert (await admin.list_keys(ctx, "acme"))[0].last_used_at == stored
    clock.now += 2
    await admin.authenticate_key(ctx, created.secret)
    later = (await admin.list_keys(ctx, "acme"))[0].last_used_at
    assert later is not None and later > stored


async def test_every_authenticated_request_is_counted_per_key_and_day(ctx: AdminContext, acme: None) -> None:
    production = await admin.create_key(ctx, "acme", "Production")
    staging = await admin.create_key(ctx, "acme", "Staging")
    for _ in range(3):
        await admin.authenticate_key(ctx, production.secret)
    await admin.authenticate_key(ctx, staging.secret)
    await admin.authenticate_key(ctx, production.key.prefix)  # refused: not counted
    today = datetime.now(UTC).date()
    usage = {(use.name, use.day): use.requests for use in await admin.list_key_usage(ctx, "acme")}
    assert usage == {("Production", today): 3, ("Staging", today): 1}
    assert [use.as_dict() for use in await admin.list_key_usage(ctx, "other")] == []
    assert await admin.list_key_usage(ctx, "acme", date(2020, 1, 1), date(2020, 1, 31)) == []
    with pytest.raises(Invalid):
        await admin.list_key_usage(ctx, "acme", date(2020, 2, 1), date(2020, 1, 1))
    # The default range of a last day near the calendar's start begins on its first day (it overflowed: a 500).
    assert await admin.list_key_usage(ctx, "acme", last=date.min) == []
    assert await admin.list_key_usage(ctx, "acme", last=date(1, 1, 29)) == []


async def test_creating_and_revoking_are_audited_without_the_secret(
    ctx: AdminContext, store: MemoryAccountStore, acme: None
) -> None:
    created = await admin.create_key(ctx, "acme", "Production")
    await admin.revoke_key(ctx, "acme", created.key.prefix)
    page = store.list_audit("acme")
    assert [row.operation for row in page.entries] == ["key.revoke", "key.create", "workspace.create"]
    assert created.secret not in repr(page) and created.key.prefix not in repr(page)
