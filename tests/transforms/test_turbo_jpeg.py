"""JPEG decoded by libjpeg-turbo directly: the same bytes out as libvips' jpegload gave, and libvips for the rest.

Every comparison renders the same request twice, once with the fast decode off (libvips decodes, as before it
existed) and once on, and asserts the outputs are the same bytes; the decode counter says which way was taken.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from tests.transforms.credits import tagged_photo
from tests.transforms.images import cmyk_jpeg, jpeg, noisy, oriented_jpeg, p3_jpeg
from transforms import turbo_jpeg, vips
from transforms.errors import UnsupportedImage
from transforms.negotiate import choose_format
from transforms.params import parse_query
from transforms.pipeline import PixelBudget, run

PHOTOS = (
    "photo-kite.jpg",  # sRGB profile, baseline 4:4:4
    "photo-eveningglow.jpg",  # baseline 4:2:0, JFIF density
    "photo-colorfulcups.jpg",  # progressive 4:2:2
    "photo-summer-1am.jpg",  # progressive
    "photo-grey.jpg",  # one band
    "large-safelanding-5120.jpg",
)
QUERIES = (
    "w=400&fm=jpg&q=80",
    "w=400&fm=webp&q=80",
    "w=1200&fm=png",  # PNG writes the source's resolution (pHYs)
    "w=300&h=300&fit=crop&fm=jpg",
    "w=200&h=200&fit=crop&crop=entropy&fm=png",
    "w=100&or=90&fm=png",
)


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips() -> None:
    vips.configure(concurrency=1)


@pytest.fixture(autouse=True)
def _fast_decode_on() -> Iterator[None]:
    turbo_jpeg.configure(True)
    yield
    turbo_jpeg.configure(True)


def render(data: bytes, query: str, *, fast: bool, keep_copyright: bool = False) -> tuple[bytes, bool]:
    """The output's bytes, and whether libjpeg-turbo decoded the source."""
    options = parse_query(query)
    if keep_copyright:
        options = dataclasses.replace(options, keep_copyright=True)
    chosen, _ = choose_format(options, None)
    turbo_jpeg.configure(fast)
    before = turbo_jpeg.decodes()
    try:
        out = run(data, options, chosen, PixelBudget()).data
    finally:
        turbo_jpeg.configure(True)
    return out, turbo_jpeg.decodes() > before


def assert_same_output_by_the_fast_way(data: bytes, query: str, *, keep_copyright: bool = False) -> bytes:
    today, slow_used = render(data, query, fast=False, keep_copyright=keep_copyright)
    fast, fast_used = render(data, query, fast=True, keep_copyright=keep_copyright)
    assert not slow_used
    assert fast_used, f"{query}: the source was not decoded by libjpeg-turbo"
    assert fast == today, f"{query}: the output differs from libvips' decode"
    return fast


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("name", PHOTOS)
def test_corpus_photos_come_out_the_same_bytes_decoded_by_libjpeg_turbo(corpus: Path, name: str, query: str) -> None:
    assert_same_output_by_the_fast_way((corpus / name).read_bytes(), query)


def test_a_greyscale_photo_stays_one_band(corpus: Path) -> None:
    out = assert_same_output_by_the_fast_way((corpus / "photo-grey.jpg").read_bytes(), "w=400&fm=jpg")
    image = pyvips.Image.new_from_buffer(out, "")
    assert (image.width, image.height, image.bands) == (400, 250, 1)


@pytest.mark.parametrize("orientation", [1, 2, 3, 5, 6, 7, 8])
def test_exif_orientation_is_applied_as_before(orientation: int) -> None:
    data = oriented_jpeg(noisy(640, 320), orientation)
    out = assert_same_output_by_the_fast_way(data, "w=100&fm=png")
    image = pyvips.Image.new_from_buffer(out, "")
    assert (image.width, image.height) == ((100, 200) if orientation >= 5 else (100, 50))
    assert_same_output_by_the_fast_way(data, "w=80&h=80&fit=crop&fm=jpg")


def test_a_foreign_profile_is_converted_to_srgb_as_before() -> None:
    assert_same_output_by_the_fast_way(p3_jpeg(noisy(800, 600)), "w=200&fm=png")


def test_kept_credits_are_written_as_before(corpus: Path) -> None:
    data = tagged_photo(corpus / "photo-kite.jpg")
    out = assert_same_output_by_the_fast_way(data, "w=200&fm=jpg", keep_copyright=True)
    assert pyvips.Image.new_from_buffer(out, "").get("exif-ifd0-Copyright").startswith("(c) 2026 Jane Doe Studio")


@pytest.mark.parametrize("embed_profile", [True, False])
def test_cmyk_is_left_to_libvips(embed_profile: bool) -> None:
    data = cmyk_jpeg(noisy(800, 600), embed_profile)
    today, _ = render(data, "w=200&fm=png", fast=False)
    out, used = render(data, "w=200&fm=png", fast=True)
    assert not used
    assert out == today
    assert pyvips.Image.new_from_buffer(out, "").bands == 3


def test_a_decode_at_full_size_is_left_to_libvips(corpus: Path) -> None:
    data = (corpus / "photo-kite.jpg").read_bytes()
    for query in ("w=2000&fm=jpg", "w=3000&fm=jpg", "fm=webp", "rect=0,0,1280,800&w=600&fm=jpg"):
        _, used = render(data, query, fast=True)
        assert not used, query


def test_a_decoder_warning_hands_the_source_to_libvips(corpus: Path) -> None:
    # Two stray bytes before a marker: libjpeg-turbo warns, libvips (fail_on=error) decodes it anyway.
    data = (corpus / "photo-kite.jpg").read_bytes()
    after_first_segment = 4 + int.from_bytes(data[4:6], "big")  # SOI, then the first marker's segment
    strayed = data[:after_first_segment] + b"\x00\x00" + data[after_first_segment:]
    today, _ = render(strayed, "w=400&fm=jpg", fast=False)
    out, used = render(strayed, "w=400&fm=jpg", fast=True)
    assert not used
    assert out == today


def test_a_truncated_jpeg_is_still_refused() -> None:
    data = jpeg(noisy(1600, 1000))
    with pytest.raises(UnsupportedImage):
        render(data[: len(data) // 2], "w=200&fm=jpg", fast=True)


def test_switched_off_every_jpeg_goes_to_libvips(corpus: Path) -> None:
    _, used = render((corpus / "photo-path.jpg").read_bytes(), "w=400&fm=jpg", fast=False)
    assert not used


def test_a_decode_above_the_memory_bound_is_left_to_libvips(monkeypatch: pytest.MonkeyPatch, corpus: Path) -> None:
    data = (corpus / "photo-path.jpg").read_bytes()  # 2560x1600 at 1/4: 640x400x3 bytes
    monkeypatch.setattr(turbo_jpeg, "MAX_DECODED_BYTES", 640 * 400 * 3 - 1)
    _, used = render(data, "w=400&fm=jpg", fast=True)
    assert not used
    monkeypatch.setattr(turbo_jpeg, "MAX_DECODED_BYTES", 640 * 400 * 3)
    _, used = render(data, "w=400&fm=jpg", fast=True)
    assert used
