"""``mark={key}``: an image straight from the workspace's own origin, never from a URL; rules still win."""

from __future__ import annotations

import pytest

from gateway.accounts.models import MarkPreset, MarkRule, Workspace
from gateway.errors import UnsupportedMedia, ValidationError
from gateway.marks.resolve import MarkResolver
from gateway.marks.rules import compile_rules
from gateway.policy import WorkspacePolicy
from gateway.tenancy import Tenant
from tests.conftest import DEMO_IMAGES
from tests.support.memory_source import MemorySource

pytestmark = pytest.mark.anyio

LOGO = (DEMO_IMAGES / "alpha-elarun.png").read_bytes()
OPEN = WorkspacePolicy.compile(["*"], ["*"], [])


def tenant(rules: tuple[MarkRule, ...] = ()) -> Tenant:
    marks = {"credit": MarkPreset("acme", "credit", kind="text", text="© Acme", updated_at=1.0)}
    source = MemorySource({"brand/logo.png": LOGO, "notes.txt": b"not an image", "other.png": LOGO[:-1] + b"\0"})
    return Tenant(Workspace(namespace="acme", origin_kind="local"), source, OPEN, marks, compile_rules(rules))


async def test_a_key_in_the_origin_is_stamped_with_overrides() -> None:
    resolver = MarkResolver()
    mark = await resolver.resolve(tenant(), {"mark": "brand/logo.png", "mark-alpha": "40"}, "a.jpg", None)
    assert mark is not None and mark.spec.image == LOGO and mark.spec.alpha == 40 and not mark.forced
    again = await resolver.resolve(tenant(), {"mark": "brand/logo.png"}, "a.jpg", None)
    assert again is not None and again.version != mark.version  # the overrides are in the version


@pytest.mark.parametrize(
    "value",
    ["https://evil.example/logo.png", "http://127.0.0.1/a.png", "//evil.example/a.png", "data:image/png;base64,AA",
     "file:/etc/passwd", "c:\\\\logo.png", "brand\\\\logo.png"],
)  # fmt: skip
async def test_urls_are_never_fetched(value: str) -> None:
    with pytest.raises(ValidationError, match="never a URL"):
        await MarkResolver().resolve(tenant(), {"mark": value}, "a.jpg", None)


async def test_a_missing_key_or_a_non_image_is_a_client_error() -> None:
    with pytest.raises(ValidationError, match="nor an image at that key"):
        await MarkResolver().resolve(tenant(), {"mark": "brand/missing.png"}, "a.jpg", None)
    with pytest.raises(UnsupportedMedia):
        await MarkResolver().resolve(tenant(), {"mark": "notes.txt"}, "a.jpg", None)
    with pytest.raises(ValidationError, match="no preset named 'logo'"):
        await MarkResolver().resolve(tenant(), {"mark": "logo"}, "a.jpg", None)  # no / or .: a preset name


async def test_an_auto_apply_rule_still_wins_over_a_key() -> None:
    rule = MarkRule("acme", 1, 1, "credit", key_patterns=("**",))
    mark = await MarkResolver().resolve(tenant((rule,)), {"mark": "brand/logo.png"}, "a.jpg", None)
    assert mark is not None and mark.forced and mark.spec.text == "© Acme"
