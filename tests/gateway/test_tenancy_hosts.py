"""Host -> tenant in the resolve step: cached like namespaces, negative entries included, and bounded."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from gateway.accounts.domains import VERIFIED, Domain
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.memory_domains import MemoryDomainStore
from gateway.accounts.models import Workspace
from gateway.tenancy import Tenancy

pytestmark = pytest.mark.anyio


class CountingDomains(MemoryDomainStore):
    def __init__(self, store: MemoryAccountStore) -> None:
        super().__init__(lambda namespace: store.get_workspace(namespace) is not None)
        self.asked: list[str] = []

    def routed(self, hostname: str) -> Domain | None:
        self.asked.append(hostname)
        return super().routed(hostname)


def store_with(*verified: str) -> tuple[MemoryAccountStore, CountingDomains]:
    store = MemoryAccountStore()
    store.create_workspace(Workspace("acme", plan="enterprise"))
    domains = CountingDomains(store)
    store.domains = domains
    for host in verified:
        added = domains.add(Domain(host, "acme"), limit=100)
        domains.save_check(dataclasses.replace(added, state=VERIFIED, checked_at=1.0))
    return store, domains


def no_source(workspace: Workspace) -> None:
    return None


async def test_a_verified_host_resolves_to_the_namespaces_own_tenant() -> None:
    store, _ = store_with("img.acme.test")
    tenancy = Tenancy(store, no_source, ttl=60)
    by_host = await tenancy.for_host("img.acme.test")
    assert by_host is not None and by_host is await tenancy.get("acme")  # one tenant, one set of cache keys
    assert tenancy.peek_host("img.acme.test") is by_host
    await tenancy.aclose()


async def test_unknown_hosts_are_asked_once_per_ttl_and_pending_ones_are_refused() -> None:
    store, domains = store_with()
    domains.add(Domain("pending.acme.test", "acme"), limit=100)
    tenancy = Tenancy(store, no_source, ttl=0.1)
    for _ in range(5):
        assert await tenancy.for_host("nobody.test") is None
        assert await tenancy.for_host("pending.acme.test") is None
    assert domains.asked == ["nobody.test", "pending.acme.test"]
    assert tenancy.peek_host("nobody.test") is None
    await asyncio.sleep(0.15)
    assert await tenancy.for_host("nobody.test") is None
    assert domains.asked.count("nobody.test") == 2
    await tenancy.aclose()


@pytest.mark.parametrize(
    "host", ["localhost", "intranet", "203.0.113.9", "::1", "not a host", "a..b.test", "-x.test", "under_score.test"]
)
async def test_a_name_no_domain_can_have_costs_no_store_read(host: str) -> None:
    store, domains = store_with()
    tenancy = Tenancy(store, no_source, ttl=60)
    for _ in range(3):
        assert await tenancy.for_host(host) is None
    assert domains.asked == []
    await tenancy.aclose()


async def test_concurrent_lookups_of_one_host_share_one_store_read() -> None:
    store, domains = store_with("img.acme.test")
    tenancy = Tenancy(store, no_source, ttl=60)
    found = await asyncio.gather(*(tenancy.for_host("img.acme.test") for _ in range(20)))
    assert all(tenant is found[0] and tenant is not None for tenant in found)
    assert domains.asked == ["img.acme.test"]
    await tenancy.aclose()


async def test_both_host_caches_are_bounded() -> None:
    hosts = [f"h{i}.acme.test" for i in range(30)]
    store, _ = store_with(*hosts)
    tenancy = Tenancy(store, no_source, ttl=60, max_tenants=10, max_unknown=10)
    for host in hosts:
        assert await tenancy.for_host(host) is not None
    for i in range(30):
        assert await tenancy.for_host(f"unknown{i}.test") is None
    assert len(tenancy._hosts) == 10 and len(tenancy._unknown_hosts) == 10
    assert tenancy.peek_host(hosts[-1]) is not None and tenancy.peek_host(hosts[0]) is None
    await tenancy.aclose()


async def test_a_removed_domain_stops_resolving_after_the_ttl() -> None:
    store, domains = store_with("img.acme.test")
    tenancy = Tenancy(store, no_source, ttl=0.1)
    assert await tenancy.for_host("img.acme.test") is not None
    domains.remove("acme", "img.acme.test")
    assert await tenancy.for_host("img.acme.test") is not None  # cached until the TTL ends
    await asyncio.sleep(0.15)
    assert await tenancy.for_host("img.acme.test") is None
    await tenancy.aclose()
