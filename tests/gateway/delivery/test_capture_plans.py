"""Captures in the plan and render steps: a disabled capture domain refuses at the render step only (what is
stored keeps being served), and the retention in force is capped by the workspace's current plan."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from gateway.cache.results import CachedResult
from gateway.delivery.plans import RequestPlan
from gateway.errors import CaptureDomainDisabled, DomainNotAllowed
from gateway.sources.base import Original
from gateway.tenancy import Tenant
from tests.gateway.delivery.parts import Parts

pytestmark = pytest.mark.anyio
DAY = 86400


def query(url: str, extra: str = "&w=100&fm=png") -> bytes:
    return f"capture={quote(url, safe='')}{extra}".encode()


async def tenant(parts: Parts, namespace: str) -> Tenant:
    found = await parts.tenancy.get(namespace)
    assert found is not None
    return found


@pytest.fixture
async def fresh() -> AsyncIterator[Parts]:
    """Parts whose tenancy reads the workspace again on every request, so a change shows at once."""
    built = Parts(ttl=0.0)
    try:
        yield built
    finally:
        await built.aclose()


@pytest.fixture
def shots(parts: Parts) -> Parts:
    parts.workspace(
        "shots",
        allowed_capture_domains=("shop.example.com", "*.example.org", "status.example.org"),
        disabled_capture_domains=("shop.example.com", "*.example.org"),
    )
    return parts


def counting(plan: RequestPlan) -> tuple[RequestPlan, list[int]]:
    """The plan with a fetch that counts, instead of starting a browser."""
    calls: list[int] = []

    async def fetch() -> Original:
        calls.append(1)
        raise AssertionError("a disabled capture domain must not be captured")

    return dataclasses.replace(plan, fetch=fetch), calls


async def test_a_page_only_disabled_patterns_match_is_planned_but_refused_at_render(shots: Parts) -> None:
    planner, ws = shots.path._planner, await tenant(shots, "shots")
    plan = await planner.plan(ws, "", query("https://shop.example.com/pricing"))
    assert plan.refuse_render is CaptureDomainDisabled
    refused, calls = counting(plan)
    chosen, key = refused.choose(None)
    with pytest.raises(CaptureDomainDisabled) as raised:
        await shots.renderer.render(refused, chosen, key)
    assert (raised.value.status, raised.value.code, calls) == (403, "CAPTURE_DOMAIN_DISABLED", [])
    # A subclass of the not-allowed refusal: callers that only know DOMAIN_NOT_ALLOWED still see a 403 of it.
    assert isinstance(raised.value, DomainNotAllowed)


async def test_the_info_answer_of_a_disabled_capture_domain_is_refused_too(shots: Parts) -> None:
    planner, ws = shots.path._planner, await tenant(shots, "shots")
    plan = await planner.plan(ws, "", query("https://shop.example.com/pricing", "&fm=json"))
    refused, calls = counting(plan)
    chosen, key = refused.choose(None)
    with pytest.raises(CaptureDomainDisabled):
        await shots.renderer.render(refused, chosen, key)
    assert calls == []


async def test_an_enabled_pattern_wins_over_a_disabled_one(shots: Parts) -> None:
    planner, ws = shots.path._planner, await tenant(shots, "shots")
    # status.example.org is matched by the disabled *.example.org and by its own enabled pattern.
    assert (await planner.plan(ws, "", query("https://status.example.org/"))).refuse_render is None
    assert (await planner.plan(ws, "", query("https://www.example.org/"))).refuse_render is CaptureDomainDisabled


async def test_no_pattern_at_all_is_still_refused_at_the_plan_step(shots: Parts) -> None:
    with pytest.raises(DomainNotAllowed) as raised:
        await shots.path._planner.plan(await tenant(shots, "shots"), "", query("https://example.net/"))
    assert raised.value.code == "DOMAIN_NOT_ALLOWED"


async def test_a_stored_capture_of_a_disabled_domain_is_served(shots: Parts) -> None:
    plan, calls = counting(
        await shots.path._planner.plan(await tenant(shots, "shots"), "", query("https://shop.example.com/"))
    )
    chosen, key = plan.choose(None)
    now = time.time()
    await shots.results.put(
        key, CachedResult(data=b"stored capture", content_type="image/png", created_at=now, expires_at=now + DAY)
    )
    rendered = await shots.renderer.render(plan, chosen, key)
    assert (rendered.tier, rendered.entry.data, calls) == ("store", b"stored capture", [])
    # And from then on from memory, by the hit step (which never looks at the switch).
    hit = shots.renderer.memory_hit(key, plan.purged_after)
    assert hit is not None and hit.data == b"stored capture"


async def test_retention_is_capped_by_the_current_plan(fresh: Parts) -> None:
    parts = fresh
    parts.workspace("big", plan="business", allowed_capture_domains=("shop.example.com",), capture_retention=30 * DAY)
    planner = parts.path._planner
    before = await planner.plan(await tenant(parts, "big"), "", query("https://shop.example.com/"))
    assert before.max_age == 30 * DAY

    parts.change("big", plan="free")  # a downgrade: the stored choice stays, the free plan keeps a day at most
    downgraded = await tenant(parts, "big")
    assert downgraded.workspace.capture_retention == 30 * DAY
    after = await planner.plan(downgraded, "", query("https://shop.example.com/"))
    assert after.max_age == DAY
    # Not the output kept under 30 days: its max-age would outlive the plan.
    assert set(after.keys.values()).isdisjoint(before.keys.values())
    # Info answers of a capture keep their own, shorter, day.
    info = await planner.plan(downgraded, "", query("https://shop.example.com/", "&fm=json"))
    assert info.max_age == DAY


async def test_a_retention_the_plan_still_offers_is_kept_as_chosen(fresh: Parts) -> None:
    parts = fresh
    parts.workspace("small", allowed_capture_domains=("shop.example.com",), capture_retention=3600)
    plan = await parts.path._planner.plan(await tenant(parts, "small"), "", query("https://shop.example.com/"))
    assert plan.max_age == 3600
    parts.change("small", plan="enterprise")  # an upgrade changes nothing for a retention that fits
    upgraded = await parts.path._planner.plan(await tenant(parts, "small"), "", query("https://shop.example.com/"))
    assert upgraded.max_age == 3600 and upgraded.keys == plan.keys
