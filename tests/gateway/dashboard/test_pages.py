"""The pages' operations over HTTP, each checked in the store the admin layer writes to."""

from __future__ import annotations

import re

import pytest

from gateway import admin
from gateway.accounts.audit import AuditEntry
from gateway.admin import AdminContext
from gateway.dashboard.runtime import DashboardRuntime
from tests.gateway.dashboard.support import DASH, Dash, error_code

pytestmark = pytest.mark.anyio


def _ctx(dash: Dash) -> AdminContext:
    app = dash.transport.app
    return DashboardRuntime.of(app).ctx


async def test_workspaces_create_and_switch(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    made = await dash.client.post(f"{DASH}/workspaces", data={"csrf": csrf, "namespace": "shop"})
    assert made.headers["location"] == f"{DASH}/w/shop?notice=created"
    page = await dash.client.get(f"{DASH}/w/shop?notice=created")
    assert "Workspace created" in page.text
    # The navigation names the current workspace and links every other one.
    assert re.search(r"<strong>shop</strong>", page.text) and f'href="{DASH}/w/acme"' in page.text
    taken = await dash.client.post(f"{DASH}/workspaces", data={"csrf": csrf, "namespace": "shop"})
    assert taken.status_code == 409 and error_code(taken) == "CONFLICT"
    bad = await dash.client.post(f"{DASH}/workspaces", data={"csrf": csrf, "namespace": "Not Valid!"})
    assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR"


async def test_a_key_is_shown_once_then_only_its_prefix_and_revoking_it_locks_the_api_out(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    created = await dash.client.post(f"{DASH}/w/acme/keys", data={"csrf": csrf, "name": "Production", "scope": "write"})
    assert created.status_code == 200
    found = re.search(r'id="new-secret" class="secret">(imk_live_[0-9A-Za-z]{43})<', created.text)
    assert found is not None
    secret = found[1]
    assert await admin.authenticate_key(_ctx(dash), secret) is not None
    listed = await dash.client.get(f"{DASH}/w/acme/keys")
    assert secret not in listed.text and secret[:12] in listed.text and "Production" in listed.text
    confirm = await dash.client.get(f"{DASH}/w/acme/keys/revoke", params={"prefix": secret[:12]})
    assert confirm.status_code == 200 and "Revoke" in confirm.text
    revoked = await dash.client.post(f"{DASH}/w/acme/keys/revoke", data={"csrf": csrf, "prefix": secret[:12]})
    assert revoked.status_code == 303
    assert await admin.authenticate_key(_ctx(dash), secret) is None
    assert "revoked" in (await dash.client.get(f"{DASH}/w/acme/keys")).text
    unknown = await dash.client.get(f"{DASH}/w/acme/keys/revoke", params={"prefix": "imk_live_zzz"})
    assert unknown.status_code == 404


async def test_members_invite_roles_and_remove_are_for_owners(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    invited = await dash.client.post(f"{DASH}/w/acme/members", data={"csrf": csrf, "email": "Bo@Example.com"})
    assert invited.status_code == 303
    assert [m.email for m in await admin.list_members(_ctx(dash), "acme")] == ["ana@example.com", "bo@example.com"]
    # The invited member signs in with a code and lands in the workspace, as a member.
    bo = dash.browser()
    await dash.sign_in("bo@example.com", bo)
    home = await bo.get(f"{DASH}/")
    assert home.headers["location"] == f"{DASH}/w/acme"
    bo_csrf = await dash.token(bo)
    refused = await bo.post(f"{DASH}/w/acme/members", data={"csrf": bo_csrf, "email": "eve@example.com"})
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    last_owner = await dash.client.post(
        f"{DASH}/w/acme/members/role", data={"csrf": csrf, "email": "ana@example.com", "role": "member"}
    )
    assert last_owner.status_code == 409 and error_code(last_owner) == "CONFLICT"
    promoted = await dash.client.post(
        f"{DASH}/w/acme/members/role", data={"csrf": csrf, "email": "bo@example.com", "role": "owner"}
    )
    assert promoted.status_code == 303
    removed = await dash.client.post(f"{DASH}/w/acme/members/remove", data={"csrf": csrf, "email": "bo@example.com"})
    assert removed.status_code == 303
    assert [m.email for m in await admin.list_members(_ctx(dash), "acme")] == ["ana@example.com"]
    assert (await bo.get(f"{DASH}/w/acme")).status_code == 404


async def test_settings_origin_allowlists_and_retention(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    origin = await dash.client.post(
        f"{DASH}/w/acme/settings/origin",
        data={"csrf": csrf, "kind": "http", "base_url": "https://assets.example.com/originals/"},
    )
    assert origin.status_code == 303
    view = await admin.show_workspace(_ctx(dash), "acme")
    assert view.origin == {"kind": "http", "base_url": "https://assets.example.com/originals/"}
    overview = await dash.client.get(f"{DASH}/w/acme")
    assert overview.status_code == 200 and "https://assets.example.com/originals/" in overview.text
    bad = await dash.client.post(f"{DASH}/w/acme/settings/access", data={"csrf": csrf, "allowed_origins": "https://*"})
    assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR"
    saved = await dash.client.post(
        f"{DASH}/w/acme/settings/access",
        data={
            "csrf": csrf,
            "allowed_origins": "https://shop.example.com\nhttps://*.example.com",
            "allowed_sources": "cdn.partner.example/images/",
            "allowed_capture_domains": "",
        },
    )
    assert saved.status_code == 303
    view = await admin.show_workspace(_ctx(dash), "acme")
    assert view.allowed_origins == ("https://shop.example.com", "https://*.example.com")
    assert view.allowed_sources == ("cdn.partner.example/images/",)
    stale = await dash.client.post(
        f"{DASH}/w/acme/settings/access", data={"csrf": csrf, "revision": "1", "allowed_origins": "*"}
    )
    assert stale.status_code == 409  # a form built from an older revision never undoes a newer change
    retention = await dash.client.post(
        f"{DASH}/w/acme/settings/retention", data={"csrf": csrf, "capture_retention": "999999999"}
    )
    assert retention.status_code == 400 and "capture_retention" in retention.text
    page = await dash.client.get(f"{DASH}/w/acme/settings")
    assert "https://shop.example.com" in page.text and "Plan:" in page.text


async def test_a_bucket_secret_is_write_only(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    form = {
        "csrf": csrf,
        "kind": "s3",
        "bucket": "acme-originals",
        "region": "eu-west-1",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI-very-secret",
    }
    assert (await dash.client.post(f"{DASH}/w/acme/settings/origin", data=form)).status_code == 303
    page = await dash.client.get(f"{DASH}/w/acme/settings")
    assert "wJalrXUtnFEMI" not in page.text and "leave empty to keep it" in page.text
    overview = await dash.client.get(f"{DASH}/w/acme")
    assert overview.status_code == 200 and "acme-originals" in overview.text and "wJalr" not in overview.text
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and workspace.origin_secret_sealed and "wJalr" not in workspace.origin_secret_sealed
    # Saving again without a secret keeps the stored one.
    kept = await dash.client.post(f"{DASH}/w/acme/settings/origin", data={**form, "secret_access_key": ""})
    assert kept.status_code == 303
    again = dash.store.get_workspace("acme")
    assert again is not None and again.origin_secret_sealed == workspace.origin_secret_sealed


async def test_the_origin_check_shows_plain_words(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    checked = await dash.client.post(f"{DASH}/w/acme/settings/check", data={"csrf": csrf, "key": ""})
    assert checked.status_code == 200
    expected = await admin.check_origin(_ctx(dash), "acme")
    assert expected.message.replace("'", "&#39;") in checked.text


async def test_purge_and_delete_with_a_receipt(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    purged = await dash.client.post(f"{DASH}/w/acme/purge", data={"csrf": csrf, "prefix": "products/"})
    assert purged.status_code == 200 and "keys starting with products/" in purged.text
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and workspace.purges
    wrong = await dash.client.post(f"{DASH}/w/acme/delete", data={"csrf": csrf, "confirm": "acm"})
    assert wrong.status_code == 400 and dash.store.get_workspace("acme") is not None
    deleted = await dash.client.post(f"{DASH}/w/acme/delete", data={"csrf": csrf, "confirm": "acme"})
    assert deleted.status_code == 200 and "acme is deleted" in deleted.text
    assert dash.store.get_workspace("acme") is None
    signature = re.search(r"&#34;signature&#34;: &#34;([0-9a-f]{64})&#34;", deleted.text)
    assert signature is not None


async def test_audit_is_paged_and_filtered(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    for n in range(60):
        await admin.record_audit(_ctx(dash).acting_as("cli"), "acme", "workspace.update", 200, float(n))
    await dash.client.post(f"{DASH}/w/acme/keys", data={"csrf": csrf, "name": "K", "scope": "read"})
    first = await dash.client.get(f"{DASH}/w/acme/audit")
    assert first.text.count("<tr><td") == 50 and "Older entries" in first.text
    cursor = re.search(r"cursor=([^\"&]+)", first.text)
    assert cursor is not None
    second = await dash.client.get(f"{DASH}/w/acme/audit?cursor={cursor[1]}")
    assert 0 < second.text.count("<tr><td") <= 13
    mine = await dash.client.get(f"{DASH}/w/acme/audit", params={"actor": "user:ana"})
    assert "key.create" in mine.text and "cli" not in re.sub(r"<input[^>]*>", "", mine.text.split("<tbody>")[1])
    ops = await dash.client.get(f"{DASH}/w/acme/audit", params={"operation": "key.create"})
    assert ops.text.count("<tr><td") == 1
    bad = await dash.client.get(f"{DASH}/w/acme/audit", params={"cursor": "nonsense"})
    assert bad.status_code == 400


async def test_audit_filters_find_rows_behind_many_others(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    await dash.client.post(f"{DASH}/w/acme/keys", data={"csrf": csrf, "name": "K", "scope": "read"})
    # Matched by the store: the one row of this actor is found behind thousands of newer ones.
    now = dash.clock.now
    for n in range(3000):
        dash.store.append_audit(AuditEntry(now + n, "acme", "cli", "workspace.update", 200, 1.0))
    mine = await dash.client.get(f"{DASH}/w/acme/audit", params={"actor": "user:ana", "operation": "key."})
    assert mine.status_code == 200 and mine.text.count("<tr><td") == 1 and "key.create" in mine.text
    assert "Older entries" not in mine.text
    too_long = await dash.client.get(f"{DASH}/w/acme/audit", params={"actor": "x" * 300})
    assert too_long.status_code == 400 and error_code(too_long) == "VALIDATION_ERROR"


async def test_capture_domains_switch_off_and_on(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    await dash.client.post(
        f"{DASH}/w/acme/settings/access",
        data={"csrf": csrf, "allowed_origins": "*", "allowed_sources": "*", "allowed_capture_domains": "example.com"},
    )
    off = await dash.client.post(
        f"{DASH}/w/acme/settings/capture-domain", data={"csrf": csrf, "pattern": "example.com", "enabled": "off"}
    )
    assert off.status_code == 303
    view = await admin.show_workspace(_ctx(dash), "acme")
    assert [(d.pattern, d.enabled) for d in view.capture_domains] == [("example.com", False)]
    assert "Switch on" in (await dash.client.get(f"{DASH}/w/acme/settings")).text
    await dash.client.post(
        f"{DASH}/w/acme/settings/capture-domain", data={"csrf": csrf, "pattern": "example.com", "enabled": "on"}
    )
    view = await admin.show_workspace(_ctx(dash), "acme")
    assert [d.enabled for d in view.capture_domains] == [True]
    unknown = await dash.client.post(
        f"{DASH}/w/acme/settings/capture-domain", data={"csrf": csrf, "pattern": "other.example", "enabled": "off"}
    )
    assert unknown.status_code == 400
