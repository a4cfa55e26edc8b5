"""HEIC input: HEVC inside HEIF, as phones write it, read from a real HEVC file."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms.errors import UnsupportedImage
from transforms.params import parse_query
from transforms.pipeline import run
from transforms.sniff import SourceFormat, sniff
from transforms.steps.context import PixelBudget

HEIC = Path(__file__).parent / "fixtures" / "kite-hevc.heic"


def _decodes_hevc() -> bool:
    import pyvips

    try:
        pyvips.Image.new_from_file(str(HEIC)).avg()
    except pyvips.Error:
        return False
    return True


def test_the_fixture_is_hevc_in_heif() -> None:
    import pyvips

    data = HEIC.read_bytes()
    assert sniff(data) is SourceFormat.HEIF
    header = pyvips.Image.new_from_buffer(data, "")
    assert (header.width, header.height, header.get("heif-compression")) == (320, 200, "hevc")


def test_heic_is_refused_with_a_message_that_says_why_when_the_build_has_no_hevc_decoder() -> None:
    if _decodes_hevc():
        out = run(HEIC.read_bytes(), parse_query("w=100&fm=png"), None, PixelBudget())
        assert (out.width, out.height) == (100, 62)
        return
    with pytest.raises(UnsupportedImage, match="HEIC .*cannot decode"):
        run(HEIC.read_bytes(), parse_query("w=100"), None, PixelBudget())
