"""auto=format picks AVIF only under ``max_auto_avif_pixels`` output pixels, WebP above (AVIF encodes ~6x slower)."""

from __future__ import annotations

from tests.transforms.images import noisy, png
from tests.transforms.render import render
from transforms.pipeline import PixelBudget

ACCEPT = "image/avif,image/webp,*/*"
SOURCE = png(noisy(400, 300))


def test_negotiated_avif_turns_webp_above_the_setting() -> None:
    budget = PixelBudget(max_auto_avif_pixels=50_000)
    small = render(SOURCE, "w=200&auto=format", ACCEPT, budget)  # 200x150 = 30,000 px
    large = render(SOURCE, "w=300&auto=format", ACCEPT, budget)  # 300x225 = 67,500 px
    assert small.content_type == "image/avif"
    assert large.content_type == "image/webp"


def test_an_explicit_fm_keeps_avif_whatever_the_setting() -> None:
    output = render(SOURCE, "w=300&fm=avif", ACCEPT, PixelBudget(max_auto_avif_pixels=50_000))
    assert output.content_type == "image/avif"


def test_the_default_setting_is_one_megapixel() -> None:
    assert PixelBudget().max_auto_avif_pixels == 1_048_576
