"""Sessions, CSRF, headers, escaping and workspace isolation over HTTP."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.admin.signin import IDLE_TIMEOUT, MAX_AGE, session_digest
from gateway.dashboard.runtime import DashboardRuntime
from tests.gateway.dashboard.support import DASH, Dash, csrf_of, error_code

pytestmark = pytest.mark.anyio


def _session_cookie(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("imgate_session="):
            return header
    raise AssertionError("no session cookie set")


async def test_missing_or_wrong_csrf_token_is_403_and_changes_nothing(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    missing = await dash.client.post(f"{DASH}/w/acme/keys", data={"name": "Prod", "scope": "write"})
    wrong = await dash.client.post(
        f"{DASH}/w/acme/keys", data={"csrf": csrf[:-1] + ("0" if csrf[-1] != "0" else "1"), "name": "Prod"}
    )
    for refused in (missing, wrong):
        assert refused.status_code == 403 and error_code(refused) == "CSRF_FAILED"
    assert dash.store.list_api_keys("acme") == []
    # Another browser's token (another session) is not this session's token either.
    other = dash.browser()
    await dash.sign_in("bo@example.com", other)
    foreign = await other.post(f"{DASH}/workspaces", data={"csrf": csrf, "namespace": "bo"})
    assert foreign.status_code == 403 and dash.store.get_workspace("bo") is None
    # The sign-in forms are bound to their own cookie: a token from another browser is refused.
    anonymous, fresh = dash.browser(), dash.browser()
    token = csrf_of((await anonymous.get(f"{DASH}/")).text)
    await fresh.get(f"{DASH}/")  # its own form cookie
    asked = await fresh.post(f"{DASH}/signin", data={"csrf": token, "email": "eve@example.com"})
    assert asked.status_code == 403 and dash.sent("eve@example.com") == 0


async def test_state_changes_only_by_post(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    for path in ("/signout", "/signout/everywhere", "/w/acme/purge", "/w/acme/delete", "/signin"):
        assert (await dash.client.get(DASH + path)).status_code == 405, path
    assert dash.store.get_workspace("acme") is not None


async def test_cookie_flags_and_a_new_session_id_at_every_sign_in(dash: Dash) -> None:
    planted = "attacker-chosen-session-id"
    dash.client.cookies.set("imgate_session", planted, domain="127.0.0.1", path=DASH)
    first = _session_cookie(await dash.sign_in("ana@example.com"))
    assert "HttpOnly" in first and "SameSite=lax" in first.replace("Lax", "lax") and f"Path={DASH}" in first
    assert "Secure" not in first  # plain HTTP here; see the TLS test
    first_id = first.split(";")[0].split("=", 1)[1]
    assert first_id != planted and len(first_id) >= 40
    second_id = _session_cookie(await dash.sign_in("ana@example.com")).split(";")[0].split("=", 1)[1]
    assert second_id != first_id
    assert dash.store.signins.get_session(session_digest(first_id)) is None  # the old one ended
    assert dash.store.signins.get_session(session_digest(second_id)) is not None


async def test_secure_cookie_over_tls(dash: Dash) -> None:
    async with dash.browser("https://127.0.0.1") as tls:
        cookie = _session_cookie(await dash.sign_in("ana@example.com", tls))
    assert "Secure" in cookie


async def test_sign_out_ends_the_session(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    session_id = dash.client.cookies["imgate_session"]
    csrf = await dash.token()
    out = await dash.client.post(f"{DASH}/signout", data={"csrf": csrf})
    assert out.status_code == 303
    assert dash.store.signins.get_session(session_digest(session_id)) is None
    # Even a copy of the old cookie is signed out now.
    replay = dash.browser()
    replay.cookies.set("imgate_session", session_id, domain="127.0.0.1", path=DASH)
    page = await replay.get(f"{DASH}/w/acme")
    assert (page.status_code, page.headers["location"]) == (303, f"{DASH}/")


async def test_sign_out_everywhere_ends_every_session_of_the_user(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    laptop = dash.browser()
    await dash.sign_in("ana@example.com", laptop)
    bo = dash.browser()
    await dash.sign_in("bo@example.com", bo)
    csrf = await dash.token(laptop)
    assert (await laptop.post(f"{DASH}/signout/everywhere", data={"csrf": csrf})).status_code == 303
    assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 303
    assert (await laptop.get(f"{DASH}/workspaces")).status_code == 303
    assert (await bo.get(f"{DASH}/workspaces")).status_code == 200  # another user's session lives on


async def test_idle_and_absolute_expiry(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    dash.clock.advance(IDLE_TIMEOUT - 60)
    assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 200  # and counts as activity
    dash.clock.advance(IDLE_TIMEOUT - 60)
    assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 200
    dash.clock.advance(IDLE_TIMEOUT)
    assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 303  # idle too long
    await dash.sign_in("ana@example.com")
    elapsed = 0.0
    while elapsed < MAX_AGE - IDLE_TIMEOUT:
        dash.clock.advance(IDLE_TIMEOUT / 2)
        elapsed += IDLE_TIMEOUT / 2
        assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 200
    dash.clock.advance(IDLE_TIMEOUT / 2 - 1)
    assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 200
    dash.clock.advance(IDLE_TIMEOUT / 2 + 1)
    assert (await dash.client.get(f"{DASH}/w/acme")).status_code == 303  # 14 days after sign-in, however busy


async def test_one_user_cannot_see_or_change_another_users_workspace(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    bo = dash.browser()
    await dash.sign_up("bo@example.com", "bobs", bo)
    csrf = await dash.token(bo)
    for path in ("/w/acme", "/w/acme/settings", "/w/acme/keys", "/w/acme/members", "/w/acme/audit", "/w/acme/danger"):
        seen = await bo.get(DASH + path)
        assert seen.status_code == 404 and error_code(seen) == "NOT_FOUND", path
    # The same answer as for a workspace that does not exist: nobody learns which namespaces are taken.
    nowhere = await bo.get(f"{DASH}/w/nothing-here")
    assert nowhere.status_code == 404
    assert nowhere.text.replace("nothing-here", "X") == (await bo.get(f"{DASH}/w/acme")).text.replace("acme", "X")
    for path, data in (
        ("/w/acme/keys", {"name": "stolen", "scope": "write"}),
        ("/w/acme/members", {"email": "bo@example.com", "role": "owner"}),
        ("/w/acme/settings/access", {"allowed_origins": "https://evil.example"}),
        ("/w/acme/delete", {"confirm": "acme"}),
    ):
        changed = await bo.post(DASH + path, data={"csrf": csrf, **data})
        assert changed.status_code == 404, path
    assert dash.store.list_api_keys("acme") == []
    assert len(dash.store.list_members("acme")) == 1
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and workspace.allowed_origins == ("*",)


async def test_security_headers_on_every_page(dash: Dash) -> None:
    pages = [await dash.client.get(f"{DASH}/"), await dash.client.get(f"{DASH}/nope")]
    await dash.sign_up("ana@example.com", "acme")
    pages += [await dash.client.get(f"{DASH}/w/acme{tab}") for tab in ("", "/settings", "/keys", "/members", "/audit")]
    assert [page.status_code for page in pages] == [200, 404] + [200] * 5
    pages.append(await dash.client.get(f"{DASH}/static/dashboard.css"))
    for page in pages:
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["x-content-type-options"] == "nosniff"
    for page in pages[:-1]:
        assert page.headers["cache-control"] == "no-store"
        # No inline script or style: every <script> has a src, no element has a style or on* attribute.
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
        assert not re.search(r"\s(style|on[a-z]+)=", page.text)


async def test_user_text_is_escaped_everywhere_it_is_shown(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    created = await dash.client.post(f"{DASH}/w/acme/keys", data={"csrf": csrf, "name": evil, "scope": "read"})
    assert created.status_code == 200
    listed = await dash.client.get(f"{DASH}/w/acme/keys")
    for page in (created, listed):
        assert evil not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    filtered = await dash.client.get(f"{DASH}/w/acme/audit", params={"actor": evil})
    assert evil not in filtered.text and "&lt;script&gt;" in filtered.text
    bad = await dash.client.post(f"{DASH}/welcome", data={"csrf": csrf})
    assert bad.status_code == 405


async def test_the_dashboard_is_not_served_on_a_custom_domain(dash: Dash) -> None:
    async with dash.browser("http://images.customer.example") as custom:
        page = await custom.get(f"{DASH}/")
    assert page.status_code == 404 and "Sign in" not in page.text


def _behind(dash: Dash, **settings: object) -> None:
    """The same dashboard with other settings (its secret key, so CSRF tokens and sessions stay valid)."""
    app = dash.transport.app
    runtime = DashboardRuntime.of(app)
    ctx = dataclasses.replace(runtime.ctx, settings=runtime.ctx.settings.replace(**settings))
    DashboardRuntime.install(app, DashboardRuntime.over(ctx, runtime.signin.mailer, runtime.signin.clock))


def _through_proxy(dash: Dash, headers: dict[str, str]) -> httpx.AsyncClient:
    """A browser talking HTTPS to a proxy that talks plain HTTP to the gateway (Caddy's setup)."""
    app = dash.transport.app

    async def plain_hop(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "scheme": "http"} if scope["type"] == "http" else scope, receive, send)

    hop = httpx.ASGITransport(app=plain_hop, client=("203.0.113.9", 50000))
    return httpx.AsyncClient(transport=hop, base_url="https://127.0.0.1", headers=headers)


async def test_secure_cookie_behind_a_trusted_tls_proxy_only(dash: Dash) -> None:
    proxied = {"X-Forwarded-Proto": "https"}
    # From an address that is no trusted proxy the header says nothing.
    async with _through_proxy(dash, proxied) as anyone:
        assert "Secure" not in _session_cookie(await dash.sign_in("ana@example.com", anyone))
    # Caddy in front terminates TLS and talks HTTP: the cookie must still be Secure.
    _behind(dash, trusted_proxies=("203.0.113.9",))
    async with _through_proxy(dash, proxied) as caddy:
        assert "Secure" in _session_cookie(await dash.sign_in("bo@example.com", caddy))
    async with _through_proxy(dash, {}) as plain:
        assert "Secure" not in _session_cookie(await dash.sign_in("cy@example.com", plain))


async def test_snippets_use_the_public_host_and_the_browsers_scheme(dash: Dash) -> None:
    _behind(dash, trusted_proxies=("203.0.113.9",), public_hosts=("img.example.com", "127.0.0.1"))
    async with _through_proxy(dash, {"X-Forwarded-Proto": "https"}) as caddy:
        await dash.sign_up("ana@example.com", "acme", caddy)
        page = await caddy.get(f"{DASH}/w/acme/builder", params={"target": "kite.jpg", "w": "320"})
    assert page.status_code == 200
    assert "https://img.example.com/acme/kite.jpg?w=320" in page.text
    assert "useHTTPS: true" in page.text and "useHTTPS: false" not in page.text
    assert "img.example.com" in page.text.split("ImgixClient(")[1][:80]


async def test_a_content_length_that_is_no_number_is_a_clear_400(dash: Dash) -> None:
    # "²" passes str.isdigit() and then fails int(): it must be a refusal, never an INTERNAL page.
    await dash.sign_up("ana@example.com", "acme")
    sent: list[Message] = []
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{DASH}/w/acme/purge",
        "raw_path": f"{DASH}/w/acme/purge".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", "²".encode("latin-1")),
            (b"cookie", f"imgate_session={dash.client.cookies['imgate_session']}".encode()),
        ],
        "client": ("203.0.113.9", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"prefix=", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await dash.transport.app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m["body"] for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 400 and b"VALIDATION_ERROR" in body and b"Content-Length" in body
