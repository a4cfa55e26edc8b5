from __future__ import annotations

import pytest

from transforms.negotiate import accepted_types, choose_format, output_for_source
from transforms.options import Format
from transforms.params import parse_query

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
OLD_SAFARI = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("fm=png", CHROME, (Format.PNG, False)),
        ("fm=png&auto=format", CHROME, (Format.PNG, False)),  # explicit fm wins
        ("", CHROME, (None, False)),  # no auto=format: Accept is not read
        ("auto=format", CHROME, (Format.AVIF, True)),
        ("auto=format,compress", OLD_SAFARI, (Format.WEBP, True)),
        ("auto=format", "*/*", (None, True)),  # wildcards do not promise AVIF or WebP
        ("auto=format", None, (None, True)),
        ("auto=format", "image/avif;q=0, image/webp", (Format.WEBP, True)),
        ("auto=format", "IMAGE/AVIF ; Q=0.5", (Format.AVIF, True)),
        ("auto=format", "image/avif;q=zero,image/webp;q=0.0", (None, True)),
    ],
)
def test_choose_format(query, accept, expected):
    assert choose_format(parse_query(query), accept) == expected


def test_accepted_types_drops_refused_and_wildcards_stay_literal():
    assert accepted_types("image/webp;q=0, image/png;q=0.3, */*") == {"image/png", "*/*"}


@pytest.mark.parametrize(
    ("chosen", "source", "has_alpha", "expected"),
    [
        (Format.WEBP, "jpeg", False, Format.WEBP),
        (None, "jpeg", False, Format.JPG),
        (None, "png", True, Format.PNG),
        (None, "png", False, Format.PNG),
        (None, "webp", True, Format.WEBP),
        (None, "gif", True, Format.GIF),
        (None, "avif", False, Format.AVIF),
        (None, "heif", False, Format.JPG),
        (None, "heif", True, Format.PNG),
        (None, "svg", True, Format.PNG),
        (None, "tiff", False, Format.JPG),
    ],
)
def test_output_for_source(chosen, source, has_alpha, expected):
    assert output_for_source(chosen, source, has_alpha) is expected
