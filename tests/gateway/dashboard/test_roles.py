"""A member signed in to the dashboard cannot do an owner's work by posting the forms: the admin layer refuses
(403 FORBIDDEN on the page) and nothing changes."""

from __future__ import annotations

import httpx
import pytest

from tests.gateway.dashboard.support import DASH, Dash, error_code

pytestmark = pytest.mark.anyio


async def _with_member(dash: Dash) -> tuple[str, httpx.AsyncClient, str]:
    csrf = await dash.sign_up("ana@example.com", "acme")
    invited = await dash.client.post(f"{DASH}/w/acme/members", data={"csrf": csrf, "email": "bo@example.com"})
    assert invited.status_code == 303
    bo = dash.browser()
    await dash.sign_in("bo@example.com", bo)
    return csrf, bo, await dash.token(bo)


def _role(dash: Dash, email: str) -> str | None:
    user = dash.store.get_user_by_email(email)
    assert user is not None
    return next((m.role for m in dash.store.list_memberships(user.user_id) if m.namespace == "acme"), None)


async def test_a_member_cannot_promote_themselves(dash: Dash) -> None:
    _, bo, token = await _with_member(dash)
    promoted = await bo.post(
        f"{DASH}/w/acme/members/role", data={"csrf": token, "email": "bo@example.com", "role": "owner"}
    )
    assert promoted.status_code == 403 and error_code(promoted) == "FORBIDDEN"
    assert _role(dash, "bo@example.com") == "member"


async def test_a_member_cannot_mint_a_write_key_but_can_a_read_key(dash: Dash) -> None:
    _, bo, token = await _with_member(dash)
    write = await bo.post(f"{DASH}/w/acme/keys", data={"csrf": token, "name": "Mine", "scope": "write"})
    assert write.status_code == 403 and error_code(write) == "FORBIDDEN"
    assert dash.store.list_api_keys("acme") == []
    read = await bo.post(f"{DASH}/w/acme/keys", data={"csrf": token, "name": "CI", "scope": "read"})
    assert read.status_code == 200
    assert [(k.name, k.scope) for k in dash.store.list_api_keys("acme")] == [("CI", "read")]


async def test_a_member_cannot_delete_the_workspace(dash: Dash) -> None:
    _, bo, token = await _with_member(dash)
    deleted = await bo.post(f"{DASH}/w/acme/delete", data={"csrf": token, "confirm": "acme"})
    assert deleted.status_code == 403 and error_code(deleted) == "FORBIDDEN"
    assert dash.store.get_workspace("acme") is not None


async def test_a_dashboard_workspace_starts_with_src_off(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and workspace.allowed_sources == () and workspace.allowed_origins == ("*",)
