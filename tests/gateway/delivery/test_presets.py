"""Presets, default parameters and allowed widths, as the plan step applies them, and over the request path."""

from __future__ import annotations

import json

import pytest
import pyvips

from gateway.accounts.presets import TransformPreset
from gateway.admin import Invalid
from gateway.admin.presets import canonical_params
from gateway.delivery.plans import RequestPlan
from gateway.errors import ValidationError
from gateway.tenancy import Tenant
from tests.gateway.delivery.parts import Parts, request
from transforms.options import Auto, Fit, Format

pytestmark = pytest.mark.anyio

CARD = TransformPreset("card", "fit=crop&h=300&w=400")
LOCKED = TransformPreset("thumb", "fm=webp&w=100", locked=True)


async def plan(parts: Parts, query: str) -> RequestPlan:
    tenant = await parts.tenancy.get("acme")
    assert isinstance(tenant, Tenant)
    return await parts.path._planner.plan(tenant, "photo-grey.jpg", query.encode())


@pytest.fixture
def shaped(parts: Parts) -> Parts:
    parts.change("acme", presets=(CARD, LOCKED), default_params="auto=format&q=70")
    return parts


async def test_a_preset_expands_and_url_parameters_override_it(shaped: Parts) -> None:
    card = await plan(shaped, "preset=card")
    assert (card.options.w, card.options.h, card.options.fit) == (400, 300, Fit.CROP)
    wider = await plan(shaped, "preset=card&w=500")
    assert (wider.options.w, wider.options.h) == (500, 300)


async def test_a_locked_preset_wins_over_the_url(shaped: Parts) -> None:
    thumb = await plan(shaped, "preset=thumb&w=900&fm=png")
    assert (thumb.options.w, thumb.options.fm) == (100, Format.WEBP)


async def test_defaults_apply_to_every_url_under_its_own_parameters(shaped: Parts) -> None:
    plain = await plan(shaped, "w=50")
    assert Auto.FORMAT in plain.options.auto and plain.options.q == 70 and plain.vary == "Accept"
    own = await plan(shaped, "w=50&q=90")
    assert own.options.q == 90


async def test_expanded_parameters_are_the_cache_key(shaped: Parts) -> None:
    # The preset and its expansion written out are one rendering, so one cache entry.
    named = await plan(shaped, "preset=card")
    spelled = await plan(shaped, "w=400&h=300&fit=crop")
    assert named.keys == spelled.keys
    # Changing the preset changes the key of every URL that names it: nothing stale is served.
    shaped.change("acme", presets=(TransformPreset("card", "fit=crop&h=300&w=401"), LOCKED))
    shaped.tenancy._known.pop("acme")
    changed = await plan(shaped, "preset=card")
    assert changed.keys != named.keys and changed.options.w == 401


async def test_an_unknown_preset_is_a_validation_error(shaped: Parts) -> None:
    with pytest.raises(ValidationError, match="^preset: this workspace has no preset named 'nope'$"):
        await plan(shaped, "preset=nope")


async def test_allowed_widths_round_up_or_refuse(parts: Parts) -> None:
    parts.change("acme", allowed_widths=(320, 640, 1280))
    assert [(await plan(parts, f"w={w}")).options.w for w in (1, 320, 321, 700, 5000)] == [320, 320, 640, 1280, 1280]
    assert (await plan(parts, "w=0.5")).options.w == 0.5  # a ratio is left alone
    assert (await plan(parts, "w=33")).keys == (await plan(parts, "w=320")).keys
    parts.change("acme", width_rounding="refuse")
    parts.tenancy._known.pop("acme")
    assert (await plan(parts, "w=640")).options.w == 640
    with pytest.raises(ValidationError, match="^w: this workspace serves only the widths 320, 640, 1280$"):
        await plan(parts, "w=641")


async def test_a_preset_with_a_width_is_rounded_like_any(parts: Parts) -> None:
    parts.change("acme", presets=(CARD,), allowed_widths=(256, 512))
    assert (await plan(parts, "preset=card")).options.w == 512


async def test_over_the_request_path_a_preset_renders_its_size(shaped: Parts) -> None:
    answer = await shaped.path.serve(request("/acme/photo-grey.jpg?preset=card&auto=compress"))
    assert answer.status == 200
    image = pyvips.Image.new_from_buffer(answer.body, "")
    assert (image.width, image.height) == (400, 300)
    refused = await shaped.path.serve(request("/acme/photo-grey.jpg?preset=none-such"))
    assert refused.status == 400 and json.loads(refused.body)["error"]["code"] == "VALIDATION_ERROR"


def test_saved_parameters_are_checked_and_canonical() -> None:
    assert canonical_params("?w=400&fit=crop&h=300") == canonical_params("h=300&w=400&fit=crop")
    assert canonical_params("mark=logo&w=10&mark-alpha=50") == "w=10&mark=logo&mark-alpha=50"
    assert canonical_params("") == ""
    for bad, field_name in [
        ("w=0", "w: must be"),
        ("w=1&w=2", "more than once"),
        ("src=https://x.example/a.jpg", "src cannot"),
        ("preset=card", "preset cannot"),
        ("s=abc", "s cannot"),
        ("nonsense=1", "nonsense"),
    ]:
        with pytest.raises(Invalid, match=field_name):
            canonical_params(bad)
