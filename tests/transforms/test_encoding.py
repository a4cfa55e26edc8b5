"""Quality defaults per format, auto=compress, lossless and progressive JPEG."""

from __future__ import annotations

import pytest
import pyvips

from tests.transforms.images import jpeg, noisy, png
from tests.transforms.render import decoded, render
from transforms import vips
from transforms.options import Format
from transforms.steps.encode import COMPRESSED_QUALITY, QUALITY


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return png(noisy(160, 120))  # detail, so that quality shows in the size


@pytest.mark.parametrize("fm", ["jpg", "pjpg", "webp", "avif"])
def test_each_lossy_format_has_its_documented_default(photo, fm):
    default = render(photo, f"fm={fm}").data
    assert default == render(photo, f"fm={fm}&q={QUALITY[Format(fm)]}").data
    assert default != render(photo, f"fm={fm}&q={QUALITY[Format(fm)] - 20}").data


@pytest.mark.parametrize("fm", ["jpg", "webp", "avif"])
def test_auto_compress_lowers_the_default_and_q_still_wins(photo, fm):
    compressed = render(photo, f"fm={fm}&auto=compress").data
    assert compressed == render(photo, f"fm={fm}&q={COMPRESSED_QUALITY[Format(fm)]}").data
    assert len(compressed) < len(render(photo, f"fm={fm}").data)
    assert render(photo, f"fm={fm}&auto=compress&q=90").data == render(photo, f"fm={fm}&q=90").data


def test_auto_compress_deflates_png_harder(photo):
    smooth = png(noisy(200, 150).gaussblur(3))
    plain, compressed = render(smooth, "fm=png").data, render(smooth, "fm=png&auto=compress").data
    assert len(compressed) <= len(plain)
    assert decoded(render(smooth, "fm=png&auto=compress")).avg() == decoded(render(smooth, "fm=png")).avg()


@pytest.mark.parametrize("fm", ["webp", "avif"])
def test_lossless_keeps_every_pixel(photo, fm):
    source = pyvips.Image.new_from_buffer(photo, "")
    output = render(photo, f"fm={fm}&lossless=1")
    image = decoded(output)
    assert (image - source).abs().max() == 0
    lossy = decoded(render(photo, f"fm={fm}"))
    assert (lossy - source).abs().max() > 0  # the check above can tell


def test_lossless_is_ignored_by_jpeg_and_png(photo):
    assert render(photo, "fm=jpg&lossless=1").data == render(photo, "fm=jpg").data
    assert render(photo, "fm=png&lossless=1").data == render(photo, "fm=png").data


def test_lossless_applies_to_the_source_family_when_fm_is_absent():
    webp_source = bytes(noisy(64, 48).webpsave_buffer(lossless=True))
    image = decoded(render(webp_source, "lossless=1"))
    assert (image - pyvips.Image.new_from_buffer(webp_source, "")).abs().max() == 0


def test_pjpg_is_progressive_and_jpg_is_not(photo):
    assert decoded(render(photo, "fm=pjpg")).get("interlaced") == 1
    plain = decoded(render(jpeg(noisy(64, 64)), "fm=jpg"))
    assert not plain.get_typeof("interlaced") or plain.get("interlaced") == 0
