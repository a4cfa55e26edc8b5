"""The Domains page over HTTP: list with states and reasons, add (the DNS records to create, copyable), check now
against a real DNS server on loopback, remove after a confirmation, the HSTS switch, the plan's limit; CSRF on
every POST, escaping, and a stranger who learns nothing."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import TokenSigner
from gateway.admin import AdminContext, WorkspaceChanges
from gateway.cache.memory_results import MemoryResultStore
from gateway.dashboard import dashboard_routes
from gateway.dashboard.runtime import DashboardRuntime
from gateway.mail import SmtpMailer
from gateway.netguard import NetGuard
from gateway.settings import Settings
from tests.gateway.dashboard.support import BASE, DASH, Clock, Dash, csrf_of, error_code
from tests.gateway.mail.smtp_server import HOST, SmtpServer
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.anyio

TARGET = "customers.img.example.net"
PAGE = f"{DASH}/w/acme/domains"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def dash(tmp_path: Path, dns: DnsServer) -> AsyncIterator[Dash]:
    """The dashboard fixture of ``conftest.py``, with a CNAME target and the loopback DNS server as resolver."""
    store = MemoryAccountStore()
    settings = Settings(
        data_dir=str(tmp_path),
        signin_codes_per_client=6,
        cname_target=TARGET,
        dns_resolvers=(dns.address,),
        dns_timeout=0.5,
    )
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(store, settings, box, TokenSigner(box), MemoryResultStore(), lambda workspace: None, NetGuard())
    clock = Clock()
    with SmtpServer() as smtp:
        mailer = SmtpMailer(HOST, smtp.port, sender="imgate <no-reply@example.com>", security="none", timeout=5)
        app = Starlette(routes=dashboard_routes())
        DashboardRuntime.install(app, DashboardRuntime.over(ctx, mailer, clock))
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield Dash(store, smtp, clock, client, transport)


def _ctx(dash: Dash) -> AdminContext:
    app = dash.transport.app
    return DashboardRuntime.of(app).ctx


async def _pro(dash: Dash, namespace: str = "acme") -> None:
    await admin.update_workspace(_ctx(dash), namespace, WorkspaceChanges(plan="pro"))  # two custom domains


async def _signed_up(dash: Dash, *, plan: str = "pro") -> str:
    csrf = await dash.sign_up("ana@example.com", "acme")
    if plan != "free":
        await admin.update_workspace(_ctx(dash), "acme", WorkspaceChanges(plan=plan))
    return csrf


async def _add(dash: Dash, csrf: str, hostname: str) -> httpx.Response:
    return await dash.client.post(PAGE, data={"csrf": csrf, "hostname": hostname})


def _block(page: str, hostname: str) -> str:
    """The page's block of one domain (from its article to the next)."""
    found = re.search(rf'<article class="domain" id="domain-{re.escape(hostname)}">(.*?)</article>', page, re.S)
    assert found is not None, f"{hostname} is not listed"
    return found[1]


def _copied(block: str) -> dict[str, str]:
    """What each copy button of a block copies: the text of the element its data-copy names."""
    texts = dict(re.findall(r'<code id="([^"]+)">([^<]*)</code>', block))
    targets = re.findall(r'data-copy="([^"]+)"', block)
    assert targets, "no copy buttons"
    return {target: html.unescape(texts[target]) for target in targets}


async def test_add_shows_the_records_to_create_with_copy_buttons(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    page = await dash.client.get(PAGE)
    assert page.status_code == 200
    assert 'aria-current="page">Domains</a>' in page.text
    assert "No custom domains yet" in page.text and "0 of 2" in page.text

    added = await _add(dash, csrf, " IMG.Acme.test. ")
    assert added.status_code == 303
    assert added.headers["location"] == f"{PAGE}?notice=added#domain-img.acme.test"

    page = await dash.client.get(added.headers["location"].split("#")[0])
    assert "Domain added." in page.text and "1 of 2" in page.text
    block = _block(page.text, "img.acme.test")
    assert '<span class="tag warn">pending</span>' in block
    stored = dash.store.domains.get("acme", "img.acme.test")
    assert stored is not None and stored.namespace == "acme" and stored.state == "pending"
    assert sorted(_copied(block).values()) == sorted(
        ["img.acme.test", f"{stored.token}.{TARGET}", "_imgate-challenge.img.acme.test", stored.token]
    )
    # The audit row names the person, as the CLI's and the API's name theirs.
    rows = dash.store.list_audit("acme", 10).entries
    assert any(r.operation == "domain.add" and r.actor == "user:ana@example.com" for r in rows)


async def test_check_now_verifies_through_real_dns(dash: Dash, dns: DnsServer) -> None:
    csrf = await _signed_up(dash)
    await _add(dash, csrf, "cdn.acme.test")
    checked = await dash.client.post(f"{PAGE}/check", data={"csrf": csrf, "hostname": "cdn.acme.test"})
    assert checked.status_code == 303
    assert checked.headers["location"] == f"{PAGE}?notice=unverified#domain-cdn.acme.test"
    page = await dash.client.get(f"{PAGE}?notice=unverified")
    assert "were not found yet" in page.text
    block = _block(page.text, "cdn.acme.test")
    assert "pending" in block and "NXDOMAIN" in block and "last checked never" not in block

    added = dash.store.domains.get("acme", "cdn.acme.test")
    assert added is not None
    dns.set("cdn.acme.test", ("CNAME", f"{added.token}.{TARGET}"))
    checked = await dash.client.post(f"{PAGE}/check", data={"csrf": csrf, "hostname": "cdn.acme.test"})
    assert checked.headers["location"] == f"{PAGE}?notice=verified#domain-cdn.acme.test"
    assert ("cdn.acme.test", "CNAME") in dns.asked
    page = await dash.client.get(f"{PAGE}?notice=verified")
    assert "the domain is verified" in page.text
    block = _block(page.text, "cdn.acme.test")
    assert '<span class="tag ok">verified</span>' in block and "NXDOMAIN" not in block
    # Verified: the records are still there, folded away.
    assert '<details class="records-box"><summary>DNS records</summary>' in block
    stored = dash.store.domains.get("acme", "cdn.acme.test")
    assert stored is not None and (stored.state, stored.reason) == ("verified", "")


async def test_a_verified_domain_whose_records_went_wrong_says_so_then_fails(dash: Dash, dns: DnsServer) -> None:
    csrf = await _signed_up(dash)
    await _add(dash, csrf, "moving.acme.test")
    moving = dash.store.domains.get("acme", "moving.acme.test")
    assert moving is not None
    dns.set("moving.acme.test", ("CNAME", f"{moving.token}.{TARGET}"))

    async def check() -> str:
        await dash.client.post(f"{PAGE}/check", data={"csrf": csrf, "hostname": "moving.acme.test"})
        return _block((await dash.client.get(PAGE)).text, "moving.acme.test")

    assert '<span class="tag ok">verified</span>' in await check()
    dns.set("moving.acme.test", ("CNAME", "elsewhere.example.net"))
    block = await check()
    # One bad answer during a DNS change does not take the images down, and the page says both.
    assert '<span class="tag ok">verified</span>' in block and "<strong>Still served</strong>" in block
    assert "elsewhere.example.net" in block and "1 failed check in a row" in block
    assert "<details" not in block  # the records to fix are shown open
    await check()
    block = await check()  # domain_failures_to_fail (3) in a row
    assert '<span class="tag bad">failed</span>' in block and "<strong>Not served:</strong>" in block
    assert "3 failed checks in a row" in block


async def test_remove_asks_first_then_removes(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _add(dash, csrf, "old.acme.test")
    listed = await dash.client.get(PAGE)
    assert f"{PAGE}/remove?hostname=old.acme.test" in listed.text

    confirm = await dash.client.get(f"{PAGE}/remove", params={"hostname": "old.acme.test"})
    assert confirm.status_code == 200 and "Remove <code>old.acme.test</code>?" in confirm.text
    stored = dash.store.domains.get("acme", "old.acme.test")
    assert stored is not None and stored.state == "pending"  # looking at the question changes nothing

    removed = await dash.client.post(
        f"{PAGE}/remove", data={"csrf": csrf_of(confirm.text), "hostname": "old.acme.test"}
    )
    assert removed.status_code == 303 and removed.headers["location"] == f"{PAGE}?notice=removed"
    page = await dash.client.get(f"{PAGE}?notice=removed")
    assert "Domain removed." in page.text and "old.acme.test" not in page.text and "0 of 2" in page.text
    stored = dash.store.domains.get("acme", "old.acme.test")
    assert stored is not None and stored.state == "removed"
    gone = await dash.client.get(f"{PAGE}/remove", params={"hostname": "old.acme.test"})
    assert gone.status_code == 404 and error_code(gone) == "NOT_FOUND"


async def test_the_hsts_switch(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    page = await dash.client.get(PAGE)
    hsts = page.text.split('id="hsts"')[1]
    assert '<span class="tag">off</span>' in hsts and 'name="enabled" value="on"' in hsts

    switched = await dash.client.post(f"{PAGE}/hsts", data={"csrf": csrf, "enabled": "on"})
    assert switched.status_code == 303 and switched.headers["location"] == f"{PAGE}?notice=hsts-on"
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and workspace.custom_domain_hsts
    hsts = (await dash.client.get(f"{PAGE}?notice=hsts-on")).text.split('id="hsts"')[1]
    assert '<span class="tag ok">on</span>' in hsts and "Switch off" in hsts

    switched = await dash.client.post(f"{PAGE}/hsts", data={"csrf": csrf, "enabled": "off"})
    assert switched.headers["location"] == f"{PAGE}?notice=hsts-off"
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and not workspace.custom_domain_hsts


async def test_the_plan_limit_is_shown_and_kept(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _add(dash, csrf, "a.acme.test")
    await _add(dash, csrf, "b.acme.test")
    page = await dash.client.get(PAGE)
    assert "2 of 2" in page.text and "The limit is reached" in page.text
    over = await _add(dash, csrf, "c.acme.test")
    assert over.status_code == 400 and error_code(over) == "VALIDATION_ERROR"
    assert "custom domains:" in over.text and dash.store.domains.get("acme", "c.acme.test") is None


async def test_the_free_plan_offers_no_form_and_refuses_a_post(dash: Dash) -> None:
    csrf = await _signed_up(dash, plan="free")
    page = await dash.client.get(PAGE)
    assert "The free plan includes no custom domains" in page.text
    assert f'action="{PAGE}"' not in page.text
    refused = await _add(dash, csrf, "img.acme.test")
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"
    assert "free plan includes none" in refused.text and dash.store.domains.get("acme", "img.acme.test") is None


@pytest.mark.parametrize("hostname", ["203.0.113.9", "co.uk", "localhost", TARGET, "not a host"])
async def test_bad_hostnames_are_refused_on_the_page(dash: Dash, hostname: str) -> None:
    csrf = await _signed_up(dash)
    refused = await _add(dash, csrf, hostname)
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"
    assert "hostname:" in refused.text
    # The form keeps what was typed, to correct it.
    assert f'name="hostname" value="{html.escape(hostname)}"' in refused.text
    assert dash.store.domains.in_workspace("acme") == []


async def test_typed_markup_is_escaped(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    evil = '"><script>alert(1)</script>.example.com'
    refused = await _add(dash, csrf, evil)
    assert refused.status_code == 400
    assert "<script>alert(1)</script>" not in refused.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text


async def test_another_workspaces_hostname_is_a_conflict_naming_nobody(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _add(dash, csrf, "img.shared.test")
    rival = dash.browser()
    async with rival:
        rival_csrf = await dash.sign_up("bo@example.com", "rival", rival)
        await _pro(dash, "rival")
        # acme's claim is only pending: it blocks nobody (the first to verify wins the name).
        claimed = await rival.post(f"{DASH}/w/rival/domains", data={"csrf": rival_csrf, "hostname": "img.shared.test"})
        assert claimed.status_code == 303
        assert dash.store.domains.remove("rival", "img.shared.test") is not None
        held = dash.store.domains.get("acme", "img.shared.test")
        assert held is not None
        dash.store.domains.save_check(dataclasses.replace(held, state="verified", checked_at=held.checked_at + 1))
        taken = await rival.post(f"{DASH}/w/rival/domains", data={"csrf": rival_csrf, "hostname": "img.shared.test"})
        assert taken.status_code == 409 and error_code(taken) == "CONFLICT"
        assert "acme" not in taken.text


async def test_a_stranger_learns_nothing(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _add(dash, csrf, "img.acme.test")
    stranger = dash.browser()
    async with stranger:
        stranger_csrf = await dash.sign_up("eve@example.com", "eve", stranger)
        for answer in (
            await stranger.get(PAGE),
            await stranger.get(f"{PAGE}/remove", params={"hostname": "img.acme.test"}),
            await stranger.post(f"{PAGE}/check", data={"csrf": stranger_csrf, "hostname": "img.acme.test"}),
            await stranger.post(f"{PAGE}/remove", data={"csrf": stranger_csrf, "hostname": "img.acme.test"}),
            await stranger.post(f"{PAGE}/hsts", data={"csrf": stranger_csrf, "enabled": "on"}),
        ):
            assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"
            assert "img.acme.test" not in answer.text
        # Nor through their own workspace: a domain of another workspace is no domain of theirs.
        await _pro(dash, "eve")
        other = await stranger.post(
            f"{DASH}/w/eve/domains/remove", data={"csrf": stranger_csrf, "hostname": "img.acme.test"}
        )
        assert other.status_code == 404
    stored = dash.store.domains.get("acme", "img.acme.test")
    assert stored is not None and stored.state == "pending"
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and not workspace.custom_domain_hsts


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("", {"hostname": "img.acme.test"}),
        ("/check", {"hostname": "img.acme.test"}),
        ("/remove", {"hostname": "img.acme.test"}),
        ("/hsts", {"enabled": "on"}),
    ],
)
async def test_every_post_needs_the_csrf_token(dash: Dash, path: str, fields: dict[str, str]) -> None:
    csrf = await _signed_up(dash)
    if path:
        await _add(dash, csrf, "img.acme.test")
    before = dash.store.domains.get("acme", "img.acme.test")
    for token in ("", "0" * 64):
        refused = await dash.client.post(PAGE + path, data={"csrf": token, **fields})
        assert refused.status_code == 403 and error_code(refused) == "CSRF_FAILED"
    assert dash.store.domains.get("acme", "img.acme.test") == before
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and not workspace.custom_domain_hsts
