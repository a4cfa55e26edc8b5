"""The slow encoders' size caps: checked on the output's final size before any pixel is encoded."""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.transforms.images import animation, gif, jpeg, solid, webp
from tests.transforms.render import render
from transforms import vips
from transforms.errors import ImageTooLarge
from transforms.options import Format
from transforms.pipeline import PixelBudget

AVIF_FIRST = "image/avif,image/webp,*/*"
DEFAULTS = PixelBudget()


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips() -> None:
    vips.configure(concurrency=1)


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A 2560x1600 JPEG (the battery's photo size), small on disk."""
    return jpeg(solid(2560, 1600, (90, 140, 200)).draw_rect([250, 200, 10], 600, 400, 900, 500, fill=True))


@pytest.fixture(scope="module")
def ten_gif() -> bytes:
    return gif(animation(10))  # 10 frames of 120x80: 96,000 pixels


def budget(**caps: int) -> PixelBudget:
    return dataclasses.replace(DEFAULTS, **caps)


def refused(data: bytes, query: str, cap: str, limits: PixelBudget = DEFAULTS, accept: str | None = None) -> str:
    started = time.monotonic()
    with pytest.raises(ImageTooLarge) as caught:
        render(data, query, accept, limits)
    assert cap in caught.value.message
    # Refused from the image's size, before the encode computes a pixel (slack for a busy machine).
    assert time.monotonic() - started < 1.0
    return caught.value.message


@pytest.mark.parametrize(
    ("query", "cap"),
    [
        ("w=4096&fm=gif", "max_gif_frame_pixels"),  # 10.5 MP as one GIF frame: ~10 s of palette work
        ("w=4096&fm=avif&q=100", "max_avif_pixels"),  # ~10 s of AV1
        ("w=2048&fm=webp&lossless=1", "max_lossless_pixels"),  # 2.6 MP: ~6 s of lossless WebP
    ],
)
def test_the_battery_s_slow_encodes_are_refused_at_once_by_default(photo: bytes, query: str, cap: str) -> None:
    message = refused(photo, query, cap)
    assert "ask for a smaller w or h" in message


def test_under_the_caps_the_same_formats_render(photo: bytes) -> None:
    assert render(photo, "w=1024&fm=gif").format is Format.GIF
    assert render(photo, "w=1024&fm=avif").format is Format.AVIF
    assert render(photo, "w=1024&fm=webp&lossless=1").format is Format.WEBP


def test_a_negotiated_avif_over_its_cap_is_written_as_webp(photo: bytes) -> None:
    output = render(photo, "w=4096&auto=format", AVIF_FIRST)
    assert (output.format, output.content_type) == (Format.WEBP, "image/webp")
    assert output.data[8:12] == b"WEBP"
    assert render(photo, "w=1024&auto=format", AVIF_FIRST).format is Format.AVIF


def test_an_asked_for_avif_is_refused_rather_than_swapped(photo: bytes) -> None:
    refused(photo, "w=4096&fm=avif&auto=format", "max_avif_pixels", accept=AVIF_FIRST)


def test_a_negotiated_lossless_avif_over_both_caps_is_refused(photo: bytes) -> None:
    refused(photo, "w=4096&auto=format&lossless=1", "max_lossless_pixels", accept=AVIF_FIRST)


def test_gif_frames_count_summed(ten_gif: bytes) -> None:
    refused(ten_gif, "", "max_gif_pixels", budget(max_gif_pixels=90_000))
    assert render(ten_gif, "w=60", budget=budget(max_gif_pixels=90_000)).format is Format.GIF  # 24,000
    assert render(ten_gif, "frame=1", budget=budget(max_gif_pixels=90_000)).format is Format.GIF  # a still


def test_one_gif_frame_has_its_own_cap(ten_gif: bytes) -> None:
    message = refused(ten_gif, "", "max_gif_frame_pixels", budget(max_gif_frame_pixels=9_000))
    assert "another fm" in message
    assert render(ten_gif, "fm=webp", budget=budget(max_gif_frame_pixels=9_000)).format is Format.WEBP


def test_every_animated_output_counts_its_frames(ten_gif: bytes) -> None:
    ten_webp = webp(animation(10))
    limits = budget(max_animation_pixels=50_000)
    assert "frame=1 for a still" in refused(ten_webp, "", "max_animation_pixels", limits)
    refused(ten_gif, "fm=webp", "max_animation_pixels", limits)
    assert render(ten_webp, "frame=1", budget=limits).format is Format.WEBP
    assert render(ten_webp, "w=60", budget=limits).format is Format.WEBP  # 24,000


def test_an_upscaled_animation_is_refused_before_its_frames_are_made(ten_gif: bytes) -> None:
    # 10 frames at 4096 px wide: 112 MP of frames from a source of a few kilobytes.
    refused(ten_gif, "w=4096&fm=webp", "max_animation_pixels")
