"""States through checks: pending -> verified -> failed after N wrong answers; DNS outages change nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.accounts.domains import FAILED, PENDING, VERIFIED, VERIFIED_ELSEWHERE, Domain
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.domains.recheck import DomainChecker, Rechecker, apply_verdict
from gateway.domains.verify import DomainVerifier, Verdict
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.anyio

TARGET = "customers.img.example.net"
HOST = "img.acme.test"
CLAIMED = "claimed.acme.test"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_a_wrong_answer_keeps_a_pending_domain_pending() -> None:
    domain = Domain(HOST, "acme", PENDING, token="t")
    after = apply_verdict(domain, Verdict(False, reason="no CNAME"), 10.0, 3)
    assert (after.state, after.reason, after.failures, after.checked_at) == (PENDING, "no CNAME", 1, 10.0)


def test_a_verified_domain_fails_at_the_nth_wrong_answer_in_a_row() -> None:
    domain = Domain(HOST, "acme", VERIFIED, token="t")
    wrong = Verdict(False, reason="the CNAME chain ends at x")
    for _ in range(2):
        domain = apply_verdict(domain, wrong, 1.0, 3)
        assert domain.state == VERIFIED  # still served meanwhile
    domain = apply_verdict(domain, wrong, 2.0, 3)
    assert (domain.state, domain.failures, domain.reason) == (FAILED, 3, "the CNAME chain ends at x")
    back = apply_verdict(domain, Verdict(True), 3.0, 3)
    assert (back.state, back.failures, back.reason) == (VERIFIED, 0, "")


def test_a_pending_domain_expires_after_its_days() -> None:
    domain = Domain(HOST, "acme", PENDING, token="t", created_at=1000.0)
    wrong = Verdict(False, reason="no CNAME")
    assert apply_verdict(domain, wrong, 1000.0 + 6.9 * 86400, 3, pending_days=7).state == PENDING
    expired = apply_verdict(domain, wrong, 1000.0 + 7.1 * 86400, 3, pending_days=7)
    assert expired.state == FAILED and "not verified within 7 days" in expired.reason
    # Still checked, so the record created late verifies it.
    assert apply_verdict(expired, Verdict(True), 1000.0 + 8 * 86400, 3, pending_days=7).state == VERIFIED


def test_an_unknown_answer_changes_only_the_reason() -> None:
    domain = Domain(HOST, "acme", VERIFIED, token="t", failures=2)
    after = apply_verdict(domain, Verdict(False, unknown=True, reason="timed out"), 4.0, 3)
    assert (after.state, after.failures, after.reason) == (VERIFIED, 2, "timed out")


async def test_the_background_pass_checks_what_is_due_against_real_dns(dns: DnsServer) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace("acme"))
    added = store.domains.add(Domain(HOST, "acme"), limit=2)
    checker = DomainChecker(store.domains, DomainVerifier(TARGET, [dns.address], 1.0), failures_to_fail=2)
    job = Rechecker(store.domains, checker, interval=3600, pending_interval=60)

    first = await job.run_once()
    assert [d.state for d in first] == [PENDING] and "NXDOMAIN" in first[0].reason
    assert await job.run_once() == []  # just checked: not due again yet

    dns.set(HOST, ("CNAME", f"{added.token}.{TARGET}"))
    later = added.created_at + 61
    assert [d.state for d in await job.run_once(now=later + 1e9)] == [VERIFIED]
    stored = store.domains.get("acme", HOST)
    assert stored is not None and stored.state == VERIFIED and stored.reason == ""

    dns.set(HOST, ("CNAME", "elsewhere.test"))
    # Verified domains are due after the long interval; two wrong answers in a row fail it.
    assert [d.state for d in await job.run_once(now=later + 2e9)] == [VERIFIED]
    assert [d.state for d in await job.run_once(now=later + 3e9)] == [FAILED]
    failed = store.domains.get("acme", HOST)
    assert failed is not None and "elsewhere.test" in failed.reason


async def test_only_the_workspace_whose_token_dns_names_gets_the_domain(dns: DnsServer) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace("acme"))
    store.create_workspace(Workspace("squatter"))
    # The squatter claims the name first; the owner's claim is not blocked by it.
    squatter = store.domains.add(Domain(CLAIMED, "squatter"), limit=2)
    owner = store.domains.add(Domain(CLAIMED, "acme"), limit=2)
    dns.set(CLAIMED, ("CNAME", f"{owner.token}.{TARGET}"))
    checker = DomainChecker(store.domains, DomainVerifier(TARGET, [dns.address], 1.0), failures_to_fail=2)
    assert (await checker.check(squatter)).state == PENDING  # the CNAME names the owner's token, not the squatter's
    assert (await checker.check(owner)).state == VERIFIED
    lost = store.domains.get("squatter", CLAIMED)
    assert lost is not None and (lost.state, lost.reason) == (FAILED, VERIFIED_ELSEWHERE)
    assert store.domains.routed(CLAIMED) == store.domains.get("acme", CLAIMED)
