"""The mark resolver: rules first, then ``mark=`` with overrides; versions that follow the preset and its image."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.errors import OriginError, ValidationError
from gateway.marks.resolve import MarkResolver
from gateway.marks.rules import compile_rules, unusable_rules
from gateway.policy import WorkspacePolicy
from gateway.tenancy import Tenant
from tests.conftest import DEMO_IMAGES
from tests.support.memory_source import MemorySource

pytestmark = pytest.mark.anyio

LOGO = (DEMO_IMAGES / "alpha-elarun.png").read_bytes()
OPEN = WorkspacePolicy.compile(["*"], ["*"], [])


def tenant(source: MemorySource | None = None, rules: tuple[MarkRule, ...] = (), **presets: MarkPreset) -> Tenant:
    workspace = Workspace(namespace="acme", origin_kind="local")
    marks = {
        "logo": MarkPreset("acme", "logo", image_key="brand/logo.png", alpha=70, updated_at=1.0),
        "credit": MarkPreset("acme", "credit", kind="text", text="© Acme", updated_at=1.0),
        **presets,
    }
    return Tenant(workspace, source or MemorySource({"brand/logo.png": LOGO}), OPEN, marks, compile_rules(rules))


async def test_no_mark_and_mark_none_stamp_nothing() -> None:
    resolver = MarkResolver()
    assert await resolver.resolve(tenant(), {"w": "10"}, "a.jpg", None) is None
    assert await resolver.resolve(tenant(), {"mark": "none"}, "a.jpg", None) is None


async def test_a_preset_with_overrides() -> None:
    resolver = MarkResolver()
    plain = await resolver.resolve(tenant(), {"mark": "logo"}, "a.jpg", None)
    faded = await resolver.resolve(tenant(), {"mark": "logo", "mark-alpha": "20"}, "a.jpg", None)
    assert plain is not None and faded is not None
    assert (plain.preset, plain.forced, plain.spec.alpha, faded.spec.alpha) == ("logo", False, 70, 20)
    assert plain.version != faded.version  # another output, another cache key
    text = await resolver.resolve(tenant(), {"mark": "credit"}, None, "cdn.example")
    assert text is not None and text.spec.text == "© Acme"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mark": "nope"}, "mark: no preset named 'nope'"),
        ({"mark-alpha": "20"}, "mark-alpha: needs mark="),
        ({"mark": "none", "mark-scale": "10"}, "mark-scale: needs mark="),
        ({"mark": "logo", "mark-alpha": "200"}, "mark-alpha"),
        ({"mark": "logo", "mark-align": "sideways"}, "mark-align"),
    ],
)
async def test_bad_mark_parameters_are_400_naming_the_parameter(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await MarkResolver().resolve(tenant(), params, "a.jpg", None)


async def test_a_rule_wins_and_the_url_cannot_remove_move_or_fade_it() -> None:
    rule = MarkRule("acme", 1, 1, "logo", key_patterns=("premium/**",))
    resolver = MarkResolver()
    ruled = tenant(rules=(rule,))
    for params in ({}, {"mark": "none"}, {"mark": "credit", "mark-alpha": "1", "mark-align": "top,left"}):
        mark = await resolver.resolve(ruled, params, "premium/a/b.jpg", None)
        assert mark is not None and (mark.preset, mark.forced, mark.spec.alpha) == ("logo", True, 70)
    assert await resolver.resolve(ruled, {}, "free/a.jpg", None) is None  # not covered: the URL decides
    hosted = tenant(rules=(MarkRule("acme", 2, 1, "credit", src_host_patterns=("*.stock.example",)),))
    by_host = await resolver.resolve(hosted, {}, None, "img.stock.example")
    assert by_host is not None and by_host.preset == "credit"


async def test_a_broken_rule_set_refuses_rather_than_serving_unmarked() -> None:
    broken = tenant()
    broken.rules = (unusable_rules("acme"),)
    with pytest.raises(OriginError):
        await MarkResolver().resolve(broken, {}, "a.jpg", None)


async def test_the_mark_image_is_read_once_and_its_version_follows_the_preset() -> None:
    source = MemorySource({"brand/logo.png": LOGO})
    resolver = MarkResolver()
    first = await resolver.resolve(tenant(source), {"mark": "logo"}, "a.jpg", None)
    again = await resolver.resolve(tenant(source), {"mark": "logo"}, "b.jpg", None)
    assert first is not None and again is first and source.fetches == 1
    edited = dataclasses.replace(tenant(source).marks["logo"], alpha=40, updated_at=2.0)
    changed = await resolver.resolve(tenant(source, logo=edited), {"mark": "logo"}, "a.jpg", None)
    assert changed is not None and changed.version != first.version


async def test_a_mark_image_missing_from_the_origin_is_an_origin_error() -> None:
    with pytest.raises(OriginError, match="logo"):
        await MarkResolver().resolve(tenant(MemorySource({})), {"mark": "logo"}, "a.jpg", None)


async def test_an_uploaded_mark_image_needs_no_origin() -> None:
    uploaded = MarkPreset("acme", "stamp", image_data=LOGO, tile=True, updated_at=3.0)
    no_origin = tenant(stamp=uploaded)
    no_origin.source = None
    mark = await MarkResolver().resolve(no_origin, {"mark": "stamp"}, "a.jpg", None)
    assert mark is not None and mark.spec.tile and mark.spec.image == LOGO
