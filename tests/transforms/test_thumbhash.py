"""The ThumbHash encoder: the reference implementation's bytes, and pictures that decode back."""

from __future__ import annotations

import base64

import pytest

from tests.transforms import thumbhash_decode
from transforms.thumbhash import encode


def pattern(width: int, height: int, alpha: bool) -> bytes:
    out = bytearray()
    for y in range(height):
        for x in range(width):
            red, green = (x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1)
            out += bytes([red, green, (x * y) % 256, ((x + y) * 9) % 256 if alpha else 255])
    return bytes(out)


# Produced by the format author's reference JavaScript encoder (rgbaToThumbHash) from the same pixels.
@pytest.mark.parametrize(
    ("width", "height", "alpha", "expected"),
    [
        (23, 11, False, "GfoNG5yAh4eAiIiIhQUI+Hg="),
        (40, 90, True, "X/iFEgwHcHB4Z3iRkAn4eDiXlwiGk0c="),
    ],
)
def test_matches_the_reference_encoder(width, height, alpha, expected):
    assert base64.b64encode(encode(width, height, pattern(width, height, alpha))).decode() == expected


@pytest.mark.parametrize(("width", "height"), [(100, 50), (50, 100), (100, 100), (100, 12), (9, 9)])
def test_solid_colour_decodes_to_that_colour_and_shape(width, height):
    colour = (200, 60, 30)
    hashed = encode(width, height, bytes([*colour, 255]) * (width * height))
    assert len(hashed) <= 25
    assert all(abs(a - e) < 6 for a, e in zip(thumbhash_decode.average_rgb(hashed), colour, strict=True))
    decoded_width, decoded_height, pixels = thumbhash_decode.decode(hashed)
    assert (decoded_width >= decoded_height) == (width >= height)
    assert all(abs(pixel[0] - colour[0]) < 8 and pixel[3] == 255 for pixel in pixels)


def test_transparency_survives():
    width, height = 40, 40
    rgba = bytearray(bytes([0, 0, 255, 255]) * (width * height))
    for y in range(height):
        for x in range(width // 2):
            rgba[(y * width + x) * 4 + 3] = 0  # the left half is clear
    hashed = encode(width, height, bytes(rgba))
    assert thumbhash_decode.header(hashed).has_alpha
    w, _, pixels = thumbhash_decode.decode(hashed)
    assert pixels[w * 10 + 2][3] < 80 and pixels[w * 10 + w - 3][3] > 180


def test_refuses_what_the_format_cannot_hold():
    with pytest.raises(ValueError):
        encode(101, 10, bytes(101 * 10 * 4))
    with pytest.raises(ValueError):
        encode(10, 10, bytes(10))
