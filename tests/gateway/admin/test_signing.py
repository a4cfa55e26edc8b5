"""Signing secrets through the admin layer: shown once, sealed at rest, two per scheme, audited without secrets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.admin import AdminContext, Invalid, NotFound
from gateway.admin.presets import put_preset, set_allowed_widths, set_default_params
from gateway.admin.signing import remove_secret, rotate_secret, set_signing, show_signing
from gateway.policy.signing import SignatureGate, sign_url

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme")


async def test_a_new_secret_is_shown_once_and_sealed_at_rest(
    ctx: AdminContext, acme: None, store: MemoryAccountStore
) -> None:
    created = await rotate_secret(ctx, "acme", "imgate")
    assert len(created.secret) >= 43 and created.secret not in repr(created)
    stored = store.get_workspace("acme")
    assert stored is not None
    (key,) = stored.signing_keys
    assert created.secret not in key.secret_sealed and ctx.secrets.open(key.secret_sealed) == created.secret
    view = await show_signing(ctx, "acme")
    assert created.secret not in repr(view) and created.secret not in str(view.as_dict())
    assert [(k.key_id, k.scheme) for k in view.keys] == [(created.key.key_id, "imgate")]


async def test_rotating_keeps_two_secrets_per_scheme_and_both_verify(ctx: AdminContext, acme: None) -> None:
    first = await rotate_secret(ctx, "acme", "imgate")
    second = await rotate_secret(ctx, "acme", "imgate")
    token = await rotate_secret(ctx, "acme", "imgix", "ImportedImgixToken01")
    assert token.secret == "ImportedImgixToken01" and (first.retired, second.retired) == (None, None)
    await set_signing(ctx, "acme", "required")
    workspace = await admin.workspaces.load(ctx, "acme")
    gate = SignatureGate(ctx.secrets)
    for secret in (first.secret, second.secret):
        url = sign_url("/acme/a.jpg", [("w", "10")], secret)
        path, _, query = url.partition("?")
        gate.check(workspace, path.encode(), query.encode())
    third = await rotate_secret(ctx, "acme", "imgate")
    assert third.retired == first.key.key_id
    ids = {key.key_id for key in (await show_signing(ctx, "acme")).keys}
    assert ids == {second.key.key_id, third.key.key_id, token.key.key_id}


async def test_signing_cannot_be_required_without_a_secret_nor_lose_its_last(ctx: AdminContext, acme: None) -> None:
    with pytest.raises(Invalid, match="create a signing secret"):
        await set_signing(ctx, "acme", "required")
    created = await rotate_secret(ctx, "acme", "imgate")
    await set_signing(ctx, "acme", "required")
    with pytest.raises(Invalid, match="last secret"):
        await remove_secret(ctx, "acme", created.key.key_id)
    with pytest.raises(NotFound):
        await remove_secret(ctx, "acme", "ffffffff")
    await set_signing(ctx, "acme", "off")
    assert (await remove_secret(ctx, "acme", created.key.key_id)).keys == ()


async def test_bad_input_is_refused_by_field(ctx: AdminContext, acme: None) -> None:
    with pytest.raises(Invalid) as scheme:
        await rotate_secret(ctx, "acme", "md5")
    assert scheme.value.field == "scheme"
    with pytest.raises(Invalid) as short:
        await rotate_secret(ctx, "acme", "imgix", "short")
    assert short.value.field == "secret" and "short" not in short.value.message
    with pytest.raises(Invalid):
        await set_signing(ctx, "acme", "sometimes")


async def test_audit_rows_name_the_operation_and_never_the_secret(
    ctx: AdminContext, acme: None, store: MemoryAccountStore
) -> None:
    created = await rotate_secret(ctx, "acme", "imgix", "ImportedImgixToken01")
    await set_signing(ctx, "acme", "required")
    rows = store.list_audit("acme").entries
    assert [row.operation for row in rows][:2] == ["signing.mode", "signing.rotate"]
    assert all(created.secret not in repr(row) for row in rows)


async def test_signing_settings_survive_the_sqlite_store(tmp_path: Path, ctx: AdminContext) -> None:
    sqlite = SqliteAccountStore(tmp_path / "accounts.db")
    try:
        on_disk = dataclasses.replace(ctx, store=sqlite)
        await admin.create_workspace(on_disk, "acme")
        created = await rotate_secret(on_disk, "acme", "imgate")
        await set_signing(on_disk, "acme", "required")
        await put_preset(on_disk, "acme", "card", "w=400&fit=crop", locked=True)
        await set_allowed_widths(on_disk, "acme", (320, 640), "refuse")
        await set_default_params(on_disk, "acme", "auto=format")
        stored = sqlite.get_workspace("acme")
        assert stored is not None and stored.signing == "required"
        assert ctx.secrets.open(stored.signing_keys[0].secret_sealed) == created.secret
        assert [(p.name, p.locked) for p in stored.presets] == [("card", True)]
        assert (stored.allowed_widths, stored.width_rounding, stored.default_params) == (
            (320, 640),
            "refuse",
            "auto=format",
        )
    finally:
        sqlite.close()
