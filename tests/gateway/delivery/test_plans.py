"""The plan step: one query splitter, one frozen plan per URL, the cache key of every negotiable format."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.cache import freshness
from gateway.cache.keys import Kind
from gateway.delivery.plans import split_query
from gateway.errors import NotFound, ValidationError
from gateway.tenancy import Tenant
from tests.gateway.delivery.parts import Parts
from transforms.options import Format

pytestmark = pytest.mark.anyio


def test_the_query_is_split_once_and_a_repeat_is_refused() -> None:
    assert split_query(b"w=1&fm=webp&mark=logo&v=") == {"w": "1", "fm": "webp", "mark": "logo", "v": ""}
    assert split_query(b"src=https%3A%2F%2Fa.example%2Fx.jpg") == {"src": "https://a.example/x.jpg"}
    with pytest.raises(ValidationError, match="^w: given more than once$"):
        split_query(b"w=1&fm=png&w=1")
    with pytest.raises(ValidationError, match=r"^\?: given more than once$"):
        split_query(b"%C3%A9=1&%C3%A9=2")  # a name is shown printable


def test_kind_values_are_the_cache_key_segments() -> None:
    assert [kind.value for kind in Kind] == ["o", "src", "cap"]


def test_max_age_is_decided_in_one_place() -> None:
    assert freshness.max_age(info=False, capture=False, retention=0) == freshness.YEAR
    assert freshness.max_age(info=True, capture=False, retention=0) == freshness.DAY
    assert freshness.max_age(info=False, capture=True, retention=3600) == 3600
    assert freshness.max_age(info=False, capture=True, retention=10**9) == freshness.YEAR
    assert freshness.max_age(info=True, capture=True, retention=0) == 0  # kept nowhere, info included
    assert freshness.cache_control(freshness.YEAR) == "public, max-age=31536000, immutable"
    assert freshness.cache_control(freshness.DAY) == "public, max-age=86400"
    assert freshness.cache_control(0) == "no-store"


async def tenant(parts: Parts) -> Tenant:
    found = await parts.tenancy.get("acme")
    assert found is not None
    return found


async def test_a_plan_is_frozen_and_kept_per_url(parts: Parts) -> None:
    planner, acme = parts.path._planner, await tenant(parts)
    plan = await planner.plan(acme, "photo-grey.jpg", b"w=10&auto=format")
    assert await planner.plan(acme, "photo-grey.jpg", b"w=10&auto=format") is plan
    assert planner.cached(acme, "photo-grey.jpg", b"w=11&auto=format") is None
    assert (plan.kind, plan.source_key, plan.vary, plan.max_age) == (
        Kind.ORIGIN,
        "photo-grey.jpg",
        "Accept",
        freshness.YEAR,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.vary = ""  # type: ignore[misc]


async def test_every_format_choose_can_pick_has_its_own_key(parts: Parts) -> None:
    planner, acme = parts.path._planner, await tenant(parts)
    negotiated = await planner.plan(acme, "photo-grey.jpg", b"auto=format")
    chosen = {
        accept: negotiated.choose(accept)
        for accept in ("image/avif", "image/webp", "image/jxl, image/heic, image/png, image/*, */*", None)
    }
    assert [fmt for fmt, _ in chosen.values()] == [Format.AVIF, Format.WEBP, None, None]
    assert len({key for _, key in chosen.values()}) == 3
    fixed = await planner.plan(acme, "photo-grey.jpg", b"fm=png")
    assert fixed.vary == "" and fixed.choose("image/avif") == (Format.PNG, fixed.keys[Format.PNG])
    info = await planner.plan(acme, "photo-grey.jpg", b"fm=json")
    assert info.max_age == freshness.DAY and info.mark is None


async def test_a_new_tenant_record_makes_new_plans(parts: Parts) -> None:
    planner, acme = parts.path._planner, await tenant(parts)
    plan = await planner.plan(acme, "photo-grey.jpg", b"w=10")
    changed = dataclasses.replace(acme)
    assert planner.cached(changed, "photo-grey.jpg", b"w=10") is None
    assert (await planner.plan(changed, "photo-grey.jpg", b"w=10")) is not plan


@pytest.mark.parametrize(
    ("key", "query", "message"),
    [
        ("x.jpg", b"src=https%3A%2F%2Fa.example%2Fx.jpg", "src: external sources are requested as"),
        ("", b"src=https%3A%2F%2Fa.example%2Fx.jpg&capture=https%3A%2F%2Fa.example%2F", "cannot be combined"),
        ("photo-grey.jpg", b"vw=800", "vw: only with capture="),
        ("photo-grey.jpg", b"wdith=3", "wdith"),
        ("photo-grey.jpg", b"mark-alpha=50", "mark-alpha: needs mark="),
        ("photo-grey.jpg", b"mark=nope", "no preset named 'nope'"),
    ],
)
async def test_plans_refuse_what_the_url_api_does_not_allow(parts: Parts, key: str, query: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await parts.path._planner.plan(await tenant(parts), key, query)


async def test_an_origin_key_is_required(parts: Parts) -> None:
    with pytest.raises(NotFound, match="no image key"):
        await parts.path._planner.plan(await tenant(parts), "", b"w=10")
