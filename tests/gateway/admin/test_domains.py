"""Custom domains through the admin layer: refusals, plan limits, DNS instructions, checks, removal, audit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from gateway import admin
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.admin import AdminContext
from gateway.admin.domains import add_domain, check_domain, list_domains, remove_domain, set_domain_hsts, show_domain
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.anyio

TARGET = "customers.img.example.net"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def domains_ctx(ctx: AdminContext, store: MemoryAccountStore, dns: DnsServer) -> AdminContext:
    store.create_workspace(Workspace("acme", plan="pro"))  # two custom domains
    store.create_workspace(Workspace("rival", plan="pro"))
    store.create_workspace(Workspace("small"))  # free: none
    settings = ctx.settings.replace(cname_target=TARGET, dns_resolvers=(dns.address,), dns_timeout=0.5)
    return dataclasses.replace(ctx, settings=settings)


async def test_add_answers_pending_with_the_records_to_create(domains_ctx: AdminContext) -> None:
    view = await add_domain(domains_ctx, "acme", " IMG.Acme.test. ")
    assert (view.hostname, view.state, view.checked_at) == ("img.acme.test", "pending", None)
    assert [(r.type, r.name, r.value) for r in view.records] == [
        ("CNAME", "img.acme.test", f"{view.token}.{TARGET}"),  # the claim's own target: it names the workspace
        ("TXT", "_imgate-challenge.img.acme.test", view.token),
    ]
    assert [v.hostname for v in await list_domains(domains_ctx, "acme")] == ["img.acme.test"]


@pytest.mark.parametrize(
    ("hostname", "field"),
    [("203.0.113.9", "hostname"), ("co.uk", "hostname"), ("localhost", "hostname"), (TARGET, "hostname")],
)
async def test_refused_hostnames_name_the_field(domains_ctx: AdminContext, hostname: str, field: str) -> None:
    with pytest.raises(admin.Invalid) as refused:
        await add_domain(domains_ctx, "acme", hostname)
    assert refused.value.field == field


async def test_plan_limits(domains_ctx: AdminContext, store: MemoryAccountStore) -> None:
    with pytest.raises(admin.Invalid, match="the free plan includes none"):
        await add_domain(domains_ctx, "small", "img.small.test")
    await add_domain(domains_ctx, "acme", "a.acme.test")
    await add_domain(domains_ctx, "acme", "b.acme.test")
    with pytest.raises(admin.Invalid, match="2 custom domain"):
        await add_domain(domains_ctx, "acme", "c.acme.test")
    # An operator's override raises it for one customer.
    await admin.set_limit_overrides(domains_ctx, "acme", PlanOverrides(custom_domains=3))
    assert (await add_domain(domains_ctx, "acme", "c.acme.test")).state == "pending"


async def test_another_workspaces_hostname_is_a_conflict_that_names_nobody(
    domains_ctx: AdminContext, dns: DnsServer
) -> None:
    added = await add_domain(domains_ctx, "acme", "shared.acme.test")
    # Pending, it blocks nobody: a claim proves nothing until DNS names the workspace's token.
    claimed = await add_domain(domains_ctx, "rival", "shared.acme.test")
    assert claimed.state == "pending" and claimed.token != added.token
    dns.set("shared.acme.test", ("CNAME", TARGET))  # the shared target: points at the gateway, names nobody
    assert (await check_domain(domains_ctx, "rival", "shared.acme.test")).state == "pending"
    dns.set("shared.acme.test", ("CNAME", f"{added.token}.{TARGET}"))
    assert (await check_domain(domains_ctx, "rival", "shared.acme.test")).state == "pending"
    assert (await check_domain(domains_ctx, "acme", "shared.acme.test")).state == "verified"
    lost = await show_domain(domains_ctx, "rival", "shared.acme.test")
    assert (lost.state, lost.reason) == ("failed", "verified by another workspace")
    await remove_domain(domains_ctx, "rival", "shared.acme.test")
    with pytest.raises(admin.Conflict) as taken:  # claiming it afresh while acme holds it verified
        await add_domain(domains_ctx, "rival", "shared.acme.test")
    assert "acme" not in taken.value.message.replace("shared.acme.test", "")


async def test_check_verifies_and_remove_frees(domains_ctx: AdminContext, dns: DnsServer) -> None:
    added = await add_domain(domains_ctx, "acme", "img.acme.test")
    first = await check_domain(domains_ctx, "acme", "img.acme.test")
    assert first.state == "pending" and "NXDOMAIN" in first.reason and first.checked_at is not None
    dns.set("img.acme.test", ("CNAME", f"{added.token}.{TARGET}"))
    verified = await check_domain(domains_ctx, "acme", "img.acme.test")
    assert (verified.state, verified.reason) == ("verified", "")
    assert (await show_domain(domains_ctx, "acme", "img.acme.test")).state == "verified"
    removed = await remove_domain(domains_ctx, "acme", "img.acme.test")
    assert removed.state == "removed"
    with pytest.raises(admin.NotFound):
        await show_domain(domains_ctx, "acme", "img.acme.test")
    with pytest.raises(admin.NotFound):
        await check_domain(domains_ctx, "rival", "img.acme.test")
    assert (await add_domain(domains_ctx, "rival", "img.acme.test")).state == "pending"


async def test_a_dns_timeout_is_a_reason_not_an_error(domains_ctx: AdminContext, dns: DnsServer) -> None:
    await add_domain(domains_ctx, "acme", "slow.acme.test")
    dns.silent.update({"slow.acme.test", "_imgate-challenge.slow.acme.test"})
    view = await check_domain(domains_ctx, "acme", "slow.acme.test")
    assert view.state == "pending" and "timed out" in view.reason


async def test_hsts_setting_and_audit(domains_ctx: AdminContext, store: MemoryAccountStore) -> None:
    assert await set_domain_hsts(domains_ctx, "acme", True) is True
    workspace = store.get_workspace("acme")
    assert workspace is not None and workspace.custom_domain_hsts
    await add_domain(domains_ctx, "acme", "img.acme.test")
    await remove_domain(domains_ctx, "acme", "img.acme.test")
    operations = [row.operation for row in store.list_audit("acme", 50).entries]
    assert {"domain.hsts", "domain.add", "domain.remove"} <= set(operations)


async def test_the_export_holds_the_domains(domains_ctx: AdminContext) -> None:
    view = await add_domain(domains_ctx, "acme", "img.acme.test")
    exported = await admin.export_workspace(domains_ctx, "acme")
    assert [(d["hostname"], d["state"], d["token"]) for d in exported["domains"]] == [
        ("img.acme.test", "pending", view.token)
    ]
