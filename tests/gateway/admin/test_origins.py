"""Origin settings through the admin layer: kinds replace, fields merge, URLs pass the one strict parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import admin
from gateway.accounts.models import Workspace
from gateway.admin import AdminContext, Invalid, OriginChanges, WorkspaceChanges
from gateway.admin.workspaces import load

pytestmark = pytest.mark.anyio

SECRET = "origin-secret-0123456789"


def origin(**fields: str | None) -> WorkspaceChanges:
    return WorkspaceChanges(origin=OriginChanges(**fields))


async def test_changing_the_kind_replaces_the_origin_settings(ctx: AdminContext) -> None:
    s3 = origin(kind="s3", bucket="photos", prefix="products", region="eu-west-1")
    await admin.create_workspace(ctx, "acme", s3)
    r2 = await admin.update_workspace(
        ctx,
        "acme",
        origin(kind="r2", bucket="photos-r2", endpoint="https://0123abcd.r2.cloudflarestorage.com"),
    )
    assert r2.origin == {
        "kind": "r2",
        "bucket": "photos-r2",
        "endpoint_url": "https://0123abcd.r2.cloudflarestorage.com",
        "region": "auto",
    }
    minio = await admin.update_workspace(
        ctx, "acme", origin(kind="s3", bucket="originals", endpoint="https://minio.example.com:9000")
    )
    assert minio.origin == {"kind": "s3", "bucket": "originals", "endpoint_url": "https://minio.example.com:9000"}


async def test_the_same_kind_merges_and_an_empty_value_clears(ctx: AdminContext) -> None:
    await admin.create_workspace(
        ctx, "acme", origin(kind="s3", bucket="photos", prefix="products/", region="eu-west-1")
    )
    merged = await admin.update_workspace(ctx, "acme", origin(kind="s3", bucket="photos-2"))
    assert merged.origin == {"kind": "s3", "bucket": "photos-2", "prefix": "products/", "region": "eu-west-1"}
    cleared = await admin.update_workspace(ctx, "acme", origin(region="", prefix="shop"))
    assert cleared.origin == {"kind": "s3", "bucket": "photos-2", "prefix": "shop/"}


async def test_a_field_of_another_kind_is_refused_not_ignored(ctx: AdminContext, folder: Path) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_workspace(ctx, "acme", origin(kind="http", base_url="https://cdn.example.com/", root="/x"))
    assert refused.value.field == "root"
    await admin.create_workspace(ctx, "acme", origin(kind="local", root=str(folder)))
    with pytest.raises(Invalid) as stray:
        await admin.update_workspace(ctx, "acme", origin(bucket="photos"))
    assert stray.value.field == "bucket"


async def test_a_local_origin_needs_a_folder(ctx: AdminContext, folder: Path) -> None:
    for root in ("", str(folder / "missing"), str(Path(__file__))):
        with pytest.raises(Invalid) as refused:
            await admin.create_workspace(ctx, "acme", origin(kind="local", root=root))
        assert refused.value.field == "root"
    view = await admin.create_workspace(ctx, "acme", origin(kind="local", root=str(folder)))
    assert view.origin == {"kind": "local", "root": str(folder.resolve())}


@pytest.mark.parametrize(
    "base_url",
    [
        "http://user:pass@127.0.0.1:9999/x.jpg",
        "http://127.0.0.1:9999\\@evil.example/",
        "http://127.0.0.1:9999%2f@evil.example/",
        "http://evil.example#@127.0.0.1/",
        "http://evil.example?@127.0.0.1/",
        "http://cdn.example.com/images?",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://cdn.example.com/%2e%2e/",
        "ftp://cdn.example.com/",
        "cdn.example.com/images/",
        "",
    ],
)
async def test_base_urls_go_through_the_strict_parser(ctx: AdminContext, base_url: str) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_workspace(ctx, "acme", origin(kind="http", base_url=base_url))
    assert refused.value.field == "base_url"
    assert "pass" not in refused.value.message and "evil" not in refused.value.message
    assert await admin.list_workspaces(ctx) == []


async def test_a_base_url_is_stored_in_its_normal_form(ctx: AdminContext) -> None:
    view = await admin.create_workspace(ctx, "acme", origin(kind="http", base_url="HTTPS://CDN.Example.com/Images"))
    assert view.origin == {"kind": "http", "base_url": "https://cdn.example.com/Images/"}
    merged = await admin.update_workspace(ctx, "acme", origin(kind="http"))
    assert merged.origin == view.origin


@pytest.mark.parametrize(
    "endpoint",
    ["http://key:secret@minio.example.com", "https://minio.example.com/bucket", "https://minio.example.com?x=1"],
)
async def test_bucket_endpoints_go_through_the_strict_parser(ctx: AdminContext, endpoint: str) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_workspace(ctx, "acme", origin(kind="s3", bucket="photos", endpoint=endpoint))
    assert refused.value.field == "endpoint" and "secret" not in refused.value.message


async def test_an_r2_origin_needs_its_account_endpoint(ctx: AdminContext) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_workspace(ctx, "acme", origin(kind="r2", bucket="photos"))
    assert refused.value.field == "endpoint"


async def test_bucket_secrets_are_sealed_kept_and_dropped_with_their_key(ctx: AdminContext, folder: Path) -> None:
    with pytest.raises(Invalid) as missing:
        await admin.create_workspace(ctx, "acme", origin(kind="s3", bucket="photos", access_key_id="AKIAEXAMPLE"))
    assert missing.value.field == "secret_access_key"
    keyed = origin(kind="s3", bucket="photos", access_key_id="AKIAEXAMPLE", secret_access_key=SECRET)
    await admin.create_workspace(ctx, "acme", keyed)
    sealed = (await load(ctx, "acme")).origin_secret_sealed
    assert ctx.secrets.open(sealed) == SECRET
    kept = await admin.update_workspace(ctx, "acme", origin(prefix="new/"))
    assert kept.origin_secret_set and (await load(ctx, "acme")).origin_secret_sealed == sealed
    dropped = await admin.update_workspace(ctx, "acme", origin(kind="local", root=str(folder)))
    assert not dropped.origin_secret_set and (await load(ctx, "acme")).origin_secret_sealed == ""


async def test_show_never_prints_credentials_even_from_an_old_record(ctx: AdminContext) -> None:
    # Saved before base URLs were checked: the view must not repeat what the strict parser refuses.
    await ctx.call(
        ctx.store.create_workspace,
        Workspace("legacy", origin_kind="http", origin={"base_url": "http://user:pass@127.0.0.1:9999/x/"}),
    )
    shown = json.dumps((await admin.show_workspace(ctx, "legacy")).as_dict())
    assert "user" not in shown and "pass" not in shown and "127.0.0.1" not in shown


@pytest.mark.parametrize("bucket", [None, "", "-", "a/b"])
async def test_a_bucket_origin_needs_a_valid_bucket(ctx: AdminContext, bucket: str | None) -> None:
    with pytest.raises(Invalid) as refused:
        await admin.create_workspace(ctx, "acme", origin(kind="s3", bucket=bucket, region="eu-west-1"))
    assert refused.value.field == "bucket"
